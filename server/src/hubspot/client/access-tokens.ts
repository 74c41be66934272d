import type { Kysely } from 'kysely';

import { recordAudit } from '../../core/audit/audit-log.ts';
import type { AppConfig, HubSpotAppConfig } from '../../platform/config/runtime.ts';
import type { Keyring } from '../../platform/crypto/keyring.ts';
import type { DB, OrganizationIntegrationRow } from '../../platform/db/schema.ts';
import { DomainError } from '../../platform/errors.ts';
import {
  findIntegrationByExternalAccount,
  markIntegrationStatus,
  readIntegrationTokens,
  storeRefreshedTokens,
} from '../../core/integrations/organization-integrations.ts';
import { HubSpotApiError } from './hubspot-http.ts';
import { refreshAccessToken } from './token-endpoint.ts';

/**
 * One function gives a valid access token for a portal. Tokens are refreshed ahead of
 * expiry, once per portal across every process: the refresher holds the connection row's
 * lock for the (time-limited) refresh call and everyone else waits on it, then re-reads and
 * finds the new token. `invalid_grant` marks the connection `needs_reconnect` for good —
 * nothing retries a dead refresh token.
 */

export interface HubSpotTokenDeps {
  readonly db: Kysely<DB>;
  readonly keyring: Keyring;
  readonly hubspot: HubSpotAppConfig;
  /** Refresh when less than this is left. Default 5 minutes (HubSpot tokens live 30). */
  readonly refreshMarginMs?: number;
  /**
   * Tokens already looked up by portal, for the calls of ONE short unit of work (a card
   * load: its deal read, notes search and file reads), so they read the row once. Never
   * kept beyond that unit, so a disconnect or a refresh elsewhere is seen by the next one;
   * a token HubSpot refuses (401) is looked up afresh as always.
   */
  readonly tokenMemo?: Map<string, Promise<PortalAccessToken>>;
}

/**
 * The token deps of a process, from its database and config: the one way every caller (a
 * route via `request.server`, a job via its worker deps) builds them.
 */
export function hubSpotTokenDeps(from: {
  readonly db: Kysely<DB>;
  readonly config: Pick<AppConfig, 'tokenEncryptionKeys' | 'hubspot'>;
}): HubSpotTokenDeps {
  return { db: from.db, keyring: from.config.tokenEncryptionKeys, hubspot: from.config.hubspot };
}

export class PortalNotConnectedError extends DomainError {
  constructor(portalId: string) {
    super(
      'hubspot_not_connected',
      `HubSpot portal ${portalId} is not connected to LexiContract`,
      409,
    );
  }
}

export class PortalNeedsReconnectError extends DomainError {
  constructor(portalId: string) {
    super(
      'hubspot_needs_reconnect',
      `The connection to HubSpot portal ${portalId} must be renewed: an admin has to reconnect HubSpot from the LexiContract integrations page`,
      409,
    );
  }
}

const DEFAULT_MARGIN_MS = 5 * 60 * 1000;

export interface PortalAccessToken {
  readonly accessToken: string;
  readonly integrationId: string;
  readonly organizationId: string;
}

function isFresh(expiresAt: Date | null, marginMs: number): boolean {
  return expiresAt !== null && expiresAt.getTime() - Date.now() > marginMs;
}

function usableRow(
  row: OrganizationIntegrationRow | undefined,
  portalId: string,
): OrganizationIntegrationRow {
  if (!row || row.status === 'disconnected' || row.access_token_ciphertext === null) {
    throw new PortalNotConnectedError(portalId);
  }
  if (row.status === 'needs_reconnect') throw new PortalNeedsReconnectError(portalId);
  return row;
}

function isDeadRefreshToken(error: unknown): boolean {
  if (!(error instanceof HubSpotApiError)) return false;
  if (error.status !== 400 && error.status !== 401) return false;
  const body = error.body as { status?: unknown } | undefined;
  return error.oauthError === 'invalid_grant' || body?.status === 'BAD_REFRESH_TOKEN';
}

/**
 * A valid access token for the portal. `rejectedToken`: the token HubSpot just answered 401
 * to; it is never handed out again, a refresh happens instead.
 */
export function getPortalAccessToken(
  deps: HubSpotTokenDeps,
  portalId: string,
  options: { rejectedToken?: string } = {},
): Promise<PortalAccessToken> {
  const memo = deps.tokenMemo;
  if (!memo || options.rejectedToken !== undefined)
    return lookUpPortalAccessToken(deps, portalId, options);
  const known = memo.get(portalId);
  if (known) return known;
  const looked = lookUpPortalAccessToken(deps, portalId, options);
  memo.set(portalId, looked);
  // A failed lookup is not remembered: the unit's next call tries again (and reports).
  looked.catch(() => memo.delete(portalId));
  return looked;
}

async function lookUpPortalAccessToken(
  deps: HubSpotTokenDeps,
  portalId: string,
  options: { rejectedToken?: string },
): Promise<PortalAccessToken> {
  const margin = deps.refreshMarginMs ?? DEFAULT_MARGIN_MS;
  const row = usableRow(
    await findIntegrationByExternalAccount(deps.db, 'hubspot', portalId),
    portalId,
  );
  const current = await readIntegrationTokens(deps.db, deps.keyring, row);
  if (isFresh(current.expiresAt, margin) && current.accessToken !== options.rejectedToken) {
    return {
      accessToken: current.accessToken,
      integrationId: row.id,
      organizationId: row.organization_id,
    };
  }

  const outcome = await deps.db.transaction().execute(async (trx) => {
    const locked = usableRow(
      await trx
        .selectFrom('organization_integrations')
        .selectAll()
        .where('id', '=', row.id)
        .forUpdate()
        .executeTakeFirst(),
      portalId,
    );
    const tokens = await readIntegrationTokens(trx, deps.keyring, locked);
    // Someone refreshed while we waited for the lock: use theirs.
    if (isFresh(tokens.expiresAt, margin) && tokens.accessToken !== options.rejectedToken) {
      return { kind: 'token' as const, accessToken: tokens.accessToken };
    }
    let refreshed;
    try {
      refreshed = await refreshAccessToken(deps.hubspot, tokens.refreshToken);
    } catch (error) {
      if (!isDeadRefreshToken(error)) throw error;
      await trx
        .updateTable('organization_integrations')
        .set({
          status: 'needs_reconnect',
          last_error:
            'HubSpot refused the refresh token (invalid_grant): the app was uninstalled or access was revoked.',
          last_error_at: new Date(),
          updated_at: new Date(),
        })
        .where('id', '=', locked.id)
        .execute();
      await recordAudit(trx, {
        organizationId: locked.organization_id,
        actor: 'system',
        action: 'hubspot.token.refresh',
        target: `hubspot:portal:${portalId}`,
        outcome: 'failure',
        details: { reason: 'invalid_grant', status: 'needs_reconnect' },
      });
      return { kind: 'dead' as const };
    }
    await storeRefreshedTokens(trx, deps.keyring, locked.id, refreshed);
    return { kind: 'token' as const, accessToken: refreshed.accessToken };
  });
  if (outcome.kind === 'dead') throw new PortalNeedsReconnectError(portalId);
  return {
    accessToken: outcome.accessToken,
    integrationId: row.id,
    organizationId: row.organization_id,
  };
}

/**
 * Runs one HubSpot call with the portal's token. A 401 gets exactly one refresh-and-retry;
 * a second 401 on a freshly refreshed token means access is gone: `needs_reconnect`.
 */
export async function withPortalToken<T>(
  deps: HubSpotTokenDeps,
  portalId: string,
  call: (accessToken: string) => Promise<T>,
): Promise<T> {
  const first = await getPortalAccessToken(deps, portalId);
  try {
    return await call(first.accessToken);
  } catch (error) {
    if (!(error instanceof HubSpotApiError) || error.status !== 401) throw error;
  }
  const second = await getPortalAccessToken(deps, portalId, { rejectedToken: first.accessToken });
  try {
    return await call(second.accessToken);
  } catch (error) {
    if (error instanceof HubSpotApiError && error.status === 401) {
      await markIntegrationStatus(
        deps.db,
        second.integrationId,
        'needs_reconnect',
        'HubSpot refused a freshly refreshed access token: the app was uninstalled or access was revoked.',
      );
      throw new PortalNeedsReconnectError(portalId);
    }
    throw error;
  }
}
