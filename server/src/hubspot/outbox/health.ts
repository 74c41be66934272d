import { sql, type Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { syncPortalDealsJob } from './job-definitions.ts';

/** How the HubSpot status sync of one organization is doing (integrations/settings pages). */
export interface SyncHealth {
  /** Last deal write HubSpot accepted. */
  readonly lastOutboundAt: Date | null;
  /** Deal writes waiting to go out. */
  readonly pendingCount: number;
  /** Deal writes that stopped: refused (`failed`) or the deal is gone. */
  readonly failedCount: number;
  readonly failuresByCause: ReadonlyArray<{ cause: string; count: number }>;
  /** Last webhook event received from HubSpot. */
  readonly lastInboundAt: Date | null;
  /** The most recent failures (up to 50), newest first. */
  readonly failedDeals: ReadonlyArray<{ dealId: string; reason: string; at: Date }>;
}

export async function getSyncHealth(db: Kysely<DB>, organizationId: string): Promise<SyncHealth> {
  const counts = await db
    .selectFrom('hubspot_deal_sync')
    .select((eb) => [
      sql<Date | null>`max(synced_at)`.as('last_outbound'),
      eb.fn.countAll<number>().filterWhere('state', '=', 'pending').as('pending'),
      eb.fn.countAll<number>().filterWhere('state', 'in', ['failed', 'gone']).as('failed'),
    ])
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  const causes = await db
    .selectFrom('hubspot_deal_sync')
    .select((eb) => [
      eb.fn.coalesce('failure_cause', sql<string>`'unknown'`).as('cause'),
      eb.fn.countAll<number>().as('count'),
    ])
    .where('organization_id', '=', organizationId)
    .where('state', 'in', ['failed', 'gone'])
    .groupBy('cause')
    .orderBy('count', 'desc')
    .execute();
  const failed = await db
    .selectFrom('hubspot_deal_sync')
    .select(['deal_id', 'last_error', 'failure_cause', 'updated_at'])
    .where('organization_id', '=', organizationId)
    .where('state', 'in', ['failed', 'gone'])
    .orderBy('updated_at', 'desc')
    .limit(50)
    .execute();
  const inbound = await db
    .selectFrom('hubspot_webhook_events')
    .select(sql<Date | null>`max(received_at)`.as('last_inbound'))
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return {
    lastOutboundAt: counts?.last_outbound ?? null,
    pendingCount: counts?.pending ?? 0,
    failedCount: counts?.failed ?? 0,
    failuresByCause: causes.map((c) => ({ cause: c.cause, count: c.count })),
    lastInboundAt: inbound?.last_inbound ?? null,
    failedDeals: failed.map((f) => ({
      dealId: f.deal_id,
      reason: f.last_error ?? f.failure_cause ?? 'unknown',
      at: f.updated_at,
    })),
  };
}

/**
 * Puts the organization's `failed` deal writes back in the queue (a deal that is `gone` was
 * deleted in HubSpot and is not retried). Returns how many were requeued.
 */
export async function retryFailedSyncs(
  db: Kysely<DB>,
  jobs: JobQueue,
  organizationId: string,
): Promise<{ retried: number }> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .updateTable('hubspot_deal_sync')
      .set({
        state: 'pending',
        attempts: 0,
        last_error: null,
        failure_cause: null,
        version: sql<number>`nextval('hubspot_deal_sync_version_seq')`,
        updated_at: new Date(),
      })
      .where('organization_id', '=', organizationId)
      .where('state', '=', 'failed')
      .returning('portal_id')
      .execute();
    for (const portalId of new Set(rows.map((r) => r.portal_id))) {
      await jobs.send(trx, syncPortalDealsJob, { portalId }, { singletonKey: portalId });
    }
    return { retried: rows.length };
  });
}

/** The outbox rows of the given deals of one organization (the contract pages' sync state). */
export async function listDealSyncStates(
  db: Kysely<DB>,
  organizationId: string,
  deals: ReadonlyArray<{ portalId: string; dealId: string }>,
) {
  if (deals.length === 0) return [];
  return db
    .selectFrom('hubspot_deal_sync')
    .select([
      'portal_id',
      'deal_id',
      'state',
      'desired_status',
      'synced_status',
      'last_error',
      'updated_at',
      'synced_at',
    ])
    .where('organization_id', '=', organizationId)
    .where((eb) =>
      eb.or(
        deals.map((d) => eb.and([eb('portal_id', '=', d.portalId), eb('deal_id', '=', d.dealId)])),
      ),
    )
    .execute();
}
