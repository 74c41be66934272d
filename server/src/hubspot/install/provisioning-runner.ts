import type { FastifyBaseLogger } from 'fastify';

import { recordAudit } from '../../core/audit/audit-log.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import { provisionPortal } from './provisioning.ts';

/** Describes a provisioning failure in words an admin can act on (no secrets). */
export function describeProvisioningFailure(error: unknown): string {
  if (error instanceof HubSpotApiError) {
    if (error.status === 403)
      return 'HubSpot refused: the app lacks the crm.schemas.deals.write scope in this portal. Reconnect HubSpot to grant it.';
    if (error.status === 0) return 'HubSpot could not be reached. Setup will be retried.';
    if (error.status === 429) return 'HubSpot rate limit reached. Setup will be retried.';
    return `HubSpot answered ${error.status}${error.hubspotMessage ? `: ${error.hubspotMessage}` : ''}`;
  }
  if (error instanceof Error && 'code' in error && typeof error.code === 'string')
    return `${error.code}: ${error.message}`;
  return 'Unexpected error while setting up the portal.';
}

/**
 * Provisions the portal and records the outcome on the connection, where the integrations
 * page shows it. Never throws: a failed setup leaves the connection usable and retryable.
 */
export async function runProvisioning(
  deps: HubSpotTokenDeps,
  integrationId: string,
  portalId: string,
  log: FastifyBaseLogger,
): Promise<boolean> {
  try {
    const result = await provisionPortal(deps, portalId);
    await deps.db
      .updateTable('organization_integrations')
      .set({ provisioning_status: 'done', provisioning_error: null, provisioned_at: new Date() })
      .where('id', '=', integrationId)
      .execute();
    log.info({ portalId, ...result }, 'HubSpot portal provisioned');
    return true;
  } catch (error) {
    const reason = describeProvisioningFailure(error);
    log.warn({ portalId, reason }, 'HubSpot portal provisioning failed');
    const row = await deps.db
      .updateTable('organization_integrations')
      .set({ provisioning_status: 'failed', provisioning_error: reason })
      .where('id', '=', integrationId)
      .returning(['organization_id'])
      .executeTakeFirst();
    await recordAudit(deps.db, {
      organizationId: row?.organization_id ?? null,
      actor: 'system',
      action: 'hubspot.provisioning',
      target: `hubspot:portal:${portalId}`,
      outcome: 'failure',
      details: { reason },
    });
    return false;
  }
}
