import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

import { DomainError } from '../../platform/errors.ts';
import { parseInput } from '../../platform/http/validation.ts';
import { findIntegrationByExternalAccount } from '../../core/integrations/organization-integrations.ts';

/**
 * The query HubSpot appends to every `hubspot.fetch` (and signs with v3 together with the
 * rest of the URL): the portal and user come from here, never from a body. Handlers run
 * after `requireHubSpotSignature('v3')`, so these values are HubSpot's.
 *
 * Tolerant on purpose: what identifies the caller (`portalId`, `userId`) is required;
 * `appId` is checked when HubSpot sends it (its docs mention it, the `@hubspot/ui-extensions`
 * types do not); `userEmail` is read when present; any other parameter HubSpot (or a later
 * platform version) appends is accepted and ignored. The signature covers the whole URL, so
 * an appended parameter cannot be forged, and a changed `portalId` still fails it.
 */
const ProxyParams = {
  portalId: z.string().regex(/^[1-9][0-9]{0,19}$/, 'must be a HubSpot portal id'),
  userId: z.string().regex(/^[0-9]{1,20}$/, 'must be a HubSpot user id'),
  userEmail: z.string().max(320).optional(),
  appId: z
    .string()
    .regex(/^[0-9]{1,20}$/, 'must be a HubSpot app id')
    .optional(),
};

export const SignedProxyQuerySchema = z.object(ProxyParams);

/** The proxy parameters plus the endpoint's own; unknown parameters are dropped. */
export function signedQuerySchema<T extends z.ZodRawShape>(own: T) {
  return z.object({ ...ProxyParams, ...own });
}

export interface SignedCaller {
  readonly portalId: string;
  readonly userId: string;
  readonly userEmail?: string | undefined;
}

export class WrongAppError extends DomainError {
  constructor() {
    super('wrong_app', 'This request was made for another HubSpot app.', 403);
  }
}

/** Parses the signed query; a request that names another app id is refused. */
export function signedQuery<S extends z.ZodType<{ appId?: string | undefined }>>(
  request: FastifyRequest,
  schema: S,
): z.output<S> {
  const query = parseInput(schema, request.query, 'query');
  if (query.appId !== undefined && query.appId !== request.server.config.hubspot.appId)
    throw new WrongAppError();
  return query;
}

/** What we know about a signed portal: its organization, or why it cannot be served. */
export type PortalConnection =
  | { readonly kind: 'connected'; readonly organizationId: string }
  | { readonly kind: 'needs_reconnect'; readonly organizationId: string }
  | { readonly kind: 'not_connected'; readonly organizationId: string | null };

export async function portalConnection(
  request: FastifyRequest,
  portalId: string,
): Promise<PortalConnection> {
  const row = await findIntegrationByExternalAccount(request.server.db, 'hubspot', portalId);
  if (!row || row.status === 'disconnected' || row.access_token_ciphertext === null) {
    return { kind: 'not_connected', organizationId: row?.organization_id ?? null };
  }
  if (row.status === 'needs_reconnect') {
    return { kind: 'needs_reconnect', organizationId: row.organization_id };
  }
  return { kind: 'connected', organizationId: row.organization_id };
}

/** The hubspot.fetch audit actor: the signed HubSpot user. */
export function hubspotActor(caller: SignedCaller): string {
  return `hubspot:user:${caller.userId}`;
}
