import type { Kysely } from 'kysely';

import type { AppConfig } from '../../platform/config/runtime.ts';
import type { DB } from '../../platform/db/schema.ts';
import {
  findContractsByExternalRef,
  type ImportedContract,
} from '../../core/contracts/external-records.ts';
import { isTerminalStatus } from '../../core/contracts/status.ts';
import type {
  CardContract,
  CardNeedsReconnect,
} from '../../../../hubspot-app/app/cards/api-schemas.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import {
  DealNotFoundError,
  fetchDealWithNoteIds,
  NOTE_PROPERTIES,
  readNotes,
} from '../legal-review/deal-reader.ts';
import type { PortalClientOptions } from '../client/portal-client.ts';
import { SearchResponseSchema, type CrmObject, type SearchRequest } from '../wire/index.ts';
import { portalRequest } from '../client/portal-client.ts';
import { tryTakeSearchSlot } from '../client/portal-rate-limiter.ts';
import { hubspotPaths } from '../wire/api-versions.ts';
import type { CardCaches } from './card-cache.ts';
import {
  PortalNeedsReconnectError,
  PortalNotConnectedError,
  type HubSpotTokenDeps,
} from '../client/access-tokens.ts';
import { NEGOTIATION_STATUS_LABELS } from '../wire/status-property.ts';
import { contractUrl } from '../../core/contracts/contract.ts';

/** The card shows at most this many contracts (newest first); answers stay far below 1 MB. */
export const CARD_CONTRACT_LIMIT = 50;

export function needsReconnectData(
  publicBaseUrl: string,
  reason: 'not_connected' | 'needs_reconnect',
): CardNeedsReconnect {
  return {
    state: 'needs_reconnect',
    reason,
    message:
      reason === 'not_connected'
        ? 'This HubSpot account is not connected to LexiContract. An admin has to connect it before deals can be sent to legal review.'
        : 'The connection to LexiContract must be renewed. An admin has to reconnect HubSpot from the LexiContract integrations page.',
    reconnectUrl:
      reason === 'not_connected'
        ? `${publicBaseUrl}/api/v1/integrations/hubspot/auth`
        : `${publicBaseUrl}/integrations`,
  };
}

/** Whether an error means the portal's connection is unusable (the card's reconnect state). */
export function connectionProblem(error: unknown): 'not_connected' | 'needs_reconnect' | null {
  if (error instanceof PortalNeedsReconnectError) return 'needs_reconnect';
  if (error instanceof PortalNotConnectedError) return 'not_connected';
  return null;
}

/**
 * Reads the deal with the signed portal's own token: a deal of another portal (or none)
 * is a 404 from HubSpot and becomes `deal_not_found` before anything is shown or done.
 * The same read brings the deal's note ids (`?associations=notes`).
 */
export async function readPortalDeal(
  tokenDeps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
): Promise<{ id: string; name: string; noteIds: string[] }> {
  try {
    const { deal, noteIds } = await fetchDealWithNoteIds(tokenDeps, portalId, dealId, {
      properties: ['dealname'],
      timeoutMs: 5_000,
      maxAttempts: 2,
      baseDelayMs: 200,
    });
    if (deal.id !== dealId) throw new DealNotFoundError(dealId);
    return { id: deal.id, name: deal.properties.dealname ?? '', noteIds };
  } catch (error) {
    if (error instanceof HubSpotApiError && (error.status === 404 || error.status === 400)) {
      throw new DealNotFoundError(dealId);
    }
    throw error;
  }
}

export interface DealContracts {
  readonly contracts: CardContract[];
  readonly openContractId: string | null;
}

/** The contracts made from this deal of this portal, for this organization, newest first. */
export async function listDealContracts(
  db: Kysely<DB>,
  config: Pick<AppConfig, 'publicBaseUrl'>,
  input: { organizationId: string; portalId: string; dealId: string },
): Promise<DealContracts> {
  const rows = await findContractsByExternalRef(
    db,
    {
      organizationId: input.organizationId,
      source: 'hubspot',
      accountId: input.portalId,
      externalId: input.dealId,
    },
    { limit: CARD_CONTRACT_LIMIT },
  );
  const contracts = rows.map((row) => toCardContract(config.publicBaseUrl, row));
  return { contracts, openContractId: contracts.find((c) => c.open)?.id ?? null };
}

export function toCardContract(
  publicBaseUrl: string,
  contract: Pick<
    ImportedContract,
    'id' | 'title' | 'negotiationStatus' | 'importState' | 'updatedAt'
  >,
): CardContract {
  return {
    id: contract.id,
    title: contract.title,
    status: contract.negotiationStatus,
    statusLabel: NEGOTIATION_STATUS_LABELS[contract.negotiationStatus],
    open: !isTerminalStatus(contract.negotiationStatus),
    importState: contract.importState,
    lastChangedAt: contract.updatedAt.toISOString(),
    url: contractUrl(publicBaseUrl, contract.id),
  };
}

/**
 * The deal's notes (in the deal's order): the ones read within the note cache's lifetime
 * from the cache, the others in one batch read, which then fills the cache.
 */
export async function readDealNotes(
  tokenDeps: HubSpotTokenDeps,
  portalId: string,
  noteIds: readonly string[],
  caches: Pick<CardCaches, 'notes'>,
  options: PortalClientOptions = {},
): Promise<CrmObject[]> {
  const known = new Map<string, CrmObject>();
  for (const id of noteIds) {
    const note = caches.notes.get(portalId, id);
    if (note) known.set(id, note);
  }
  const missing = noteIds.filter((id) => !known.has(id));
  if (missing.length > 0) {
    for (const note of await readNotes(tokenDeps, portalId, missing, options)) {
      caches.notes.set(portalId, note);
      known.set(note.id, note);
    }
  }
  return noteIds.map((id) => known.get(id)).filter((n) => n !== undefined);
}

/** One page of a deal's notes by search; more (rare) are read by id like any not found. */
const NOTE_SEARCH_LIMIT = 100;

/**
 * The deal's notes as HubSpot's CRM search finds them (`associations.deal`), in one call
 * that needs no note ids, so it runs beside the deal read and a cold card load reaches the
 * file metadata one round trip sooner. It only ever saves work, never decides anything:
 * search has its own limit (5 requests/s per portal, outside the portal's 110 per 10 s, so
 * it costs the portal's budget nothing) and shows a note logged moments ago late, so the
 * deal read's note ids stay the truth and every note search did not bring is read by id as
 * before. Undefined when no search slot is free now or the search failed.
 */
export async function searchDealNotes(
  tokenDeps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
): Promise<CrmObject[] | undefined> {
  try {
    if (!(await tryTakeSearchSlot(tokenDeps.db, portalId))) return undefined;
    const json: SearchRequest = {
      filterGroups: [
        { filters: [{ propertyName: 'associations.deal', operator: 'EQ', value: dealId }] },
      ],
      properties: [...NOTE_PROPERTIES],
      // Required by the spec (as strings there, as objects in HubSpot's guide); the order
      // comes from the deal's note ids, so none is asked for.
      sorts: [],
      limit: NOTE_SEARCH_LIMIT,
      after: '0',
    };
    const { body } = await portalRequest(
      tokenDeps,
      portalId,
      { method: 'POST', path: hubspotPaths.notesSearch(), json },
      SearchResponseSchema,
      { maxAttempts: 1, timeoutMs: 3_000, rateLane: false },
    );
    return body.results;
  } catch {
    // The deal read beside it reports whatever is really wrong (reconnect, not found).
    return undefined;
  }
}
