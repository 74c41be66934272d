import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

import { DomainError } from '../../platform/errors.ts';
import { parseInput } from '../../platform/http/validation.ts';
import { findIntegrationByExternalAccount } from '../../core/integrations/organization-integrations.ts';

/**
 * The query HubSpot appends to every `hubspot.fetch` (and signs with v3 together with the
 * rest of the URL): the portal and user come from here, never from a body. Handlers run
 * after `requireHubSpotSignature('v3')`, so these values are HubSpot's.
 */
const ProxyParams = {
  portalId: z.string().regex(/^[1-9][0-9]{0,19}$/, 'must be a HubSpot portal id'),
  userId: z.string().regex(/^[0-9]{1,20}$/, 'must be a HubSpot user id'),
  userEmail: z.string().max(320),
  appId: z.string().regex(/^[0-9]{1,20}$/, 'must be a HubSpot app id'),
};

export const SignedProxyQuerySchema = z.strictObject(ProxyParams);

/** The proxy parameters plus the endpoint's own (strict: nothing else is accepted). */
export function signedQuerySchema<T extends z.ZodRawShape>(own: T) {
  return z.strictObject({ ...ProxyParams, ...own });
}

export interface SignedCaller {
  readonly portalId: string;
  readonly userId: string;
  readonly userEmail: string;
}

export class WrongAppError extends DomainError {
  constructor() {
    super('wrong_app', 'This request was made for another HubSpot app.', 403);
  }
}

/** Parses the signed query; a request made for another app id is refused. */
export function signedQuery<S extends z.ZodType<{ appId: string }>>(
  request: FastifyRequest,
  schema: S,
): z.output<S> {
  const query = parseInput(schema, request.query, 'query');
  if (query.appId !== request.server.config.hubspot.appId) throw new WrongAppError();
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
