import { writeBackNotice } from '../legal-review/file-write-back.ts';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import { recordAudit } from '../../core/audit/audit-log.ts';
import type { Database } from '../../platform/db/database.ts';
import { parseInput } from '../../platform/http/validation.ts';
import {
  SettingsOptionsSchema,
  type RetryResult,
  type SettingsData,
  type SettingsOptions,
  type SyncHealth,
} from '../../../../hubspot-app/app/settings/api-schemas.ts';
import { getOrganization } from '../../core/organizations/organizations.ts';
import { findIntegrationByExternalAccount } from '../../core/integrations/organization-integrations.ts';
import { acceptRawJson, requireHubSpotSignature, signedJson } from '../inbound/signed-request.ts';
import { PortalNeedsReconnectError, PortalNotConnectedError } from '../client/access-tokens.ts';
import {
  hubspotActor,
  portalConnection,
  signedQuery,
  SignedProxyQuerySchema,
  type PortalConnection,
} from '../inbound/signed-query.ts';
import { getSyncHealth, retryFailedSyncs } from '../outbox/health.ts';
import { fieldMappingRoutes } from './field-mapping-routes.ts';
import {
  getHubSpotSettings,
  saveHubSpotSettings,
  settingsPageOptions,
} from '../legal-review/settings-store.ts';

/**
 * The app's settings page backend, called by the page through signed `hubspot.fetch`:
 * `GET /settings` (connection, sync health, options), `PUT /settings/options`,
 * `POST /settings/retry-failed`. The portal comes from the v3-signed query only.
 */

function noStore(reply: FastifyReply): void {
  void reply.header('cache-control', 'no-store');
}

function requireConnected(
  portalId: string,
  connection: PortalConnection,
): asserts connection is Extract<PortalConnection, { kind: 'connected' }> {
  if (connection.kind === 'not_connected') throw new PortalNotConnectedError(portalId);
  if (connection.kind === 'needs_reconnect') throw new PortalNeedsReconnectError(portalId);
}

/** Raw `max()` timestamps may arrive as Date or string. */
function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

/** The sync's health as the settings page shows it (bounded lists, ISO dates). */
async function syncHealth(db: Database, organizationId: string): Promise<SyncHealth> {
  const health = await getSyncHealth(db, organizationId);
  return {
    lastInboundAt: iso(health.lastInboundAt),
    lastOutboundAt: iso(health.lastOutboundAt),
    pendingCount: health.pendingCount,
    failedCount: health.failedCount,
    causes: health.failuresByCause.slice(0, 20).map((c) => ({ cause: c.cause, count: c.count })),
    failures: health.failedDeals.slice(0, 20).map((f) => ({
      dealId: f.dealId,
      cause: f.reason.slice(0, 500),
      at: f.at.toISOString(),
    })),
  };
}

async function loadSettings(request: FastifyRequest): Promise<SettingsData> {
  const query = signedQuery(request, SignedProxyQuerySchema);
  const { config, db } = request.server;
  const row = await findIntegrationByExternalAccount(db, 'hubspot', query.portalId);
  const connection = await portalConnection(request, query.portalId);
  const organization =
    connection.organizationId !== null
      ? await getOrganization(db, connection.organizationId).catch(() => undefined)
      : undefined;
  const known = connection.kind !== 'not_connected' && row !== undefined;
  return {
    connection: {
      state: connection.kind,
      portalId: query.portalId,
      organizationName: known ? (organization?.name ?? null) : null,
      installerEmail: known ? row.installer_email : null,
      connectedAt: known ? (row.connected_at?.toISOString() ?? null) : null,
      lastError: known && connection.kind === 'needs_reconnect' ? row.last_error : null,
      installUrl: `${config.publicBaseUrl}/api/v1/integrations/hubspot/auth`,
      manageUrl: `${config.publicBaseUrl}/integrations`,
      ...(connection.kind === 'connected'
        ? await writeBackNotice(db, connection.organizationId, config.publicBaseUrl).then(
            (notice) => (notice ? { writeBackNotice: notice } : {}),
          )
        : {}),
    },
    health:
      connection.kind === 'not_connected' ? null : await syncHealth(db, connection.organizationId),
    options:
      connection.kind === 'not_connected'
        ? null
        : settingsPageOptions(await getHubSpotSettings(db, connection.organizationId)),
  };
}

async function saveOptions(request: FastifyRequest): Promise<SettingsOptions> {
  const query = signedQuery(request, SignedProxyQuerySchema);
  const options = parseInput(SettingsOptionsSchema, signedJson(request), 'body');
  const connection = await portalConnection(request, query.portalId);
  requireConnected(query.portalId, connection);
  return saveHubSpotSettings(
    request.server.db,
    connection.organizationId,
    options,
    hubspotActor({ portalId: query.portalId, userId: query.userId, userEmail: query.userEmail }),
  );
}

async function retryFailed(request: FastifyRequest): Promise<RetryResult> {
  const query = signedQuery(request, SignedProxyQuerySchema);
  const connection = await portalConnection(request, query.portalId);
  requireConnected(query.portalId, connection);
  const actor = hubspotActor({
    portalId: query.portalId,
    userId: query.userId,
    userEmail: query.userEmail,
  });
  const { retried } = await retryFailedSyncs(
    request.server.db,
    request.server.jobs,
    connection.organizationId,
  );
  await recordAudit(request.server.db, {
    organizationId: connection.organizationId,
    actor,
    action: 'hubspot.sync.retry_failed',
    target: `hubspot:portal:${query.portalId}`,
    outcome: 'success',
    details: { retried },
  });
  return { retried };
}

export const hubspotSettingsRoutes: FastifyPluginAsync = async (app) => {
  // 128 KiB: a field mapping of 100 fields with their option maps is the largest body.
  acceptRawJson(app, { bodyLimit: 128 * 1024 });
  app.addHook('preHandler', requireHubSpotSignature('v3'));

  app.get('/settings', async (request, reply) => {
    noStore(reply);
    return loadSettings(request);
  });
  app.put('/settings/options', async (request, reply) => {
    noStore(reply);
    return saveOptions(request);
  });
  app.post('/settings/retry-failed', async (request, reply) => {
    noStore(reply);
    return retryFailed(request);
  });
  await fieldMappingRoutes(app);
};
