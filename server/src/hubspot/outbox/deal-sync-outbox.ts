import { sql, type Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import type { LexiContractStatusValue } from '../wire/status-property.ts';
import { syncPortalDealsJob } from './job-definitions.ts';

export interface DealSyncRequest {
  readonly organizationId: string;
  readonly portalId: string;
  readonly dealId: string;
  readonly contractId: string | null;
  readonly status: LexiContractStatusValue;
  /** Left as it is when undefined. */
  readonly contractUrl?: string | null;
}

/**
 * The batching window: a pending row is sent once it has been quiet (no change) for this
 * long, so changes that arrive in quick succession coalesce into one write per deal. A new
 * sync job also waits this long before it starts.
 */
export const SYNC_BATCHING_WINDOW_SECONDS = 1;

/**
 * A deal that keeps changing is never quiet: it is sent anyway once its value has waited
 * this long (`pending_since`), so coalescing delays a write by at most this much.
 */
export const SYNC_MAX_DELAY_SECONDS = 5;

/**
 * Records that a deal should show `status` (and the contract link), and makes sure a sync
 * job for the portal is queued. Pass the transaction of the change that causes it: the
 * outbox row and the job commit or vanish with it. Later calls for the same deal replace the
 * desired value (coalescing) with a higher version.
 */
export async function enqueueDealSync(
  trx: Kysely<DB>,
  jobs: JobQueue,
  request: DealSyncRequest,
): Promise<void> {
  await enqueueDealSyncs(trx, jobs, [request]);
}

const CHUNK = 1000;

async function upsertRows(
  trx: Kysely<DB>,
  requests: readonly DealSyncRequest[],
  keepContractUrl: boolean,
): Promise<void> {
  for (let i = 0; i < requests.length; i += CHUNK) {
    const chunk = requests.slice(i, i + CHUNK);
    await trx
      .insertInto('hubspot_deal_sync')
      .values(
        chunk.map((request) => ({
          portal_id: request.portalId,
          deal_id: request.dealId,
          organization_id: request.organizationId,
          contract_id: request.contractId,
          desired_status: request.status,
          desired_contract_url: request.contractUrl ?? null,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['portal_id', 'deal_id']).doUpdateSet((eb) => ({
          organization_id: eb.ref('excluded.organization_id'),
          contract_id: eb.fn.coalesce(
            eb.ref('excluded.contract_id'),
            eb.ref('hubspot_deal_sync.contract_id'),
          ),
          desired_status: eb.ref('excluded.desired_status'),
          desired_contract_url: keepContractUrl
            ? eb.ref('hubspot_deal_sync.desired_contract_url')
            : eb.ref('excluded.desired_contract_url'),
          version: sql<number>`nextval('hubspot_deal_sync_version_seq')`,
          // Still pending (maybe in flight): the wait keeps counting from the earlier change.
          pending_since: sql<Date>`case when hubspot_deal_sync.state = 'pending'
            then hubspot_deal_sync.pending_since else now() end`,
          state: 'pending',
          attempts: 0,
          last_error: null,
          failure_cause: null,
          updated_at: sql<Date>`now()`,
        })),
      )
      .execute();
  }
}

/**
 * Many deal syncs in one go (same semantics as `enqueueDealSync`, in request order: for a
 * deal named twice, the later request wins). One upsert per 1,000 deals, one job per portal.
 */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function enqueueDealSyncs(
  trx: Kysely<DB>,
  jobs: JobQueue,
  requests: readonly DealSyncRequest[],
): Promise<void> {
  if (requests.length === 0) return;
  // One statement cannot touch a row twice: keep the last request per deal.
  const latest = new Map<string, DealSyncRequest>();
  for (const request of requests) {
    const key = `${request.portalId}:${request.dealId}`;
    latest.delete(key);
    latest.set(key, request);
  }
  // Rows are locked in primary-key order, the order the sync worker's multi-row updates
  // take them in too, so a bulk enqueue and a running sync cannot deadlock each other.
  const unique = [...latest.values()].sort((a, b) =>
    a.portalId === b.portalId ? compareIds(a.dealId, b.dealId) : compareIds(a.portalId, b.portalId),
  );
  await upsertRows(
    trx,
    unique.filter((r) => r.contractUrl !== undefined),
    false,
  );
  await upsertRows(
    trx,
    unique.filter((r) => r.contractUrl === undefined),
    true,
  );
  for (const portalId of new Set(unique.map((r) => r.portalId))) {
    await jobs.send(
      trx,
      syncPortalDealsJob,
      { portalId },
      { singletonKey: portalId, startAfterSeconds: SYNC_BATCHING_WINDOW_SECONDS },
    );
  }
}
