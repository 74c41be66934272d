import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest } from '../client/portal-client.ts';
import { hubspotPaths } from '../wire/api-versions.ts';
import {
  CrmObjectSchema,
  NOTE_TO_DEAL_ASSOCIATION_TYPE_ID,
  type CrmObjectCreateInput,
} from '../wire/index.ts';

/**
 * Notes LexiContract writes on a deal (the reviewed paper written back, the timeline): one
 * `POST /crm/objects/{v}/notes` with the deal association, under the portal's rate budget.
 */

/** What a note needs beyond the required scopes (notes are created with the contacts scope). */
export const NOTE_SCOPES = ['crm.objects.contacts.write'] as const;

export const REAUTHORIZE_PATH = '/api/v1/integrations/hubspot/auth';

/** The scopes of `wanted` the portal has not granted. */
export function missingScopes(wanted: readonly string[], granted: readonly string[]): string[] {
  return wanted.filter((scope) => !granted.includes(scope));
}

export function describeHubSpotError(error: unknown): string {
  if (error instanceof HubSpotApiError) {
    return error.status === 0
      ? 'HubSpot could not be reached'
      : `HubSpot answered ${error.status}${error.hubspotMessage ? `: ${error.hubspotMessage}` : ''}`;
  }
  return error instanceof Error ? error.message : 'unknown error';
}

/** Creates a note on the deal; returns its id. */
export async function createDealNote(
  tokenDeps: HubSpotTokenDeps,
  portalId: string,
  note: {
    dealId: string;
    /** HTML (HubSpot renders it); the caller escapes what it interpolates. */
    body: string;
    /** HubSpot file ids to attach. */
    attachmentIds?: readonly string[];
    timestamp?: Date;
  },
  signal?: AbortSignal,
): Promise<string> {
  const input: CrmObjectCreateInput = {
    properties: {
      hs_timestamp: (note.timestamp ?? new Date()).toISOString(),
      hs_note_body: note.body,
      ...(note.attachmentIds && note.attachmentIds.length > 0
        ? { hs_attachment_ids: note.attachmentIds.join(';') }
        : {}),
    },
    associations: [
      {
        to: { id: note.dealId },
        types: [
          {
            associationCategory: 'HUBSPOT_DEFINED',
            associationTypeId: NOTE_TO_DEAL_ASSOCIATION_TYPE_ID,
          },
        ],
      },
    ],
  };
  const created = await portalRequest(
    tokenDeps,
    portalId,
    { method: 'POST', path: hubspotPaths.notes(), json: input },
    CrmObjectSchema,
    // One attempt: a note has no idempotency key, so a timeout must not become two notes.
    { rateLane: 'sync', maxAttempts: 1, ...(signal ? { signal } : {}) },
  );
  return created.body.id;
}
