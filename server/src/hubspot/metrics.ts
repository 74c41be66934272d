import { sql, type Kysely } from 'kysely';

import type { DB } from '../platform/db/schema.ts';
import { addScrapeCollector, syncLagSeconds } from '../platform/metrics.ts';

/**
 * HubSpot's scrape-time gauges: per portal, the age of the oldest deal change the outbox has
 * not written to HubSpot yet (`lexicontract_sync_lag_seconds`).
 */
export function exportHubSpotMetrics(db: Kysely<DB>): void {
  addScrapeCollector(async () => {
    const rows = await db
      .selectFrom('hubspot_deal_sync')
      .select([
        'portal_id',
        sql<number>`extract(epoch from now() - min(pending_since))::float8`.as('lag'),
      ])
      .where('state', '=', 'pending')
      .groupBy('portal_id')
      .execute();
    syncLagSeconds.reset();
    for (const row of rows) syncLagSeconds.set({ portal: row.portal_id }, Math.max(0, row.lag));
  });
}
