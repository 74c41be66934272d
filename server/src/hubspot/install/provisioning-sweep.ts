import { sql } from 'kysely';
import type { Logger } from 'pino';

import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import { runProvisioning } from './provisioning-runner.ts';

/**
 * Retries portal setup in the background: connected portals whose provisioning failed, or
 * never finished (an install interrupted before its inline attempt), get another attempt on
 * every sweep (once a minute). Provisioning is idempotent, so two workers racing is harmless.
 */
export async function retryPendingProvisioning(
  deps: HubSpotTokenDeps,
  log: Logger,
): Promise<number> {
  const rows = await deps.db
    .selectFrom('organization_integrations')
    .select(['id', 'external_account_id'])
    .where('integration_id', '=', 'hubspot')
    .where('status', '=', 'connected')
    .where('external_account_id', 'is not', null)
    .where((eb) =>
      eb.or([
        eb('provisioning_status', '=', 'failed'),
        eb.and([
          eb('provisioning_status', '=', 'pending'),
          eb('connected_at', '<', sql<Date>`now() - interval '2 minutes'`),
        ]),
      ]),
    )
    .limit(50)
    .execute();
  let done = 0;
  for (const row of rows) {
    if (!row.external_account_id) continue;
    if (await runProvisioning(deps, row.id, row.external_account_id, log)) done += 1;
  }
  return done;
}
