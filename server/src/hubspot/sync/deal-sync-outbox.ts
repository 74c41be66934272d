import { sql, type Kysely } from 'kysely';

import type { DB } from '../../db/schema.ts';
import type { JobQueue } from '../../jobs/queue.ts';
import type { LexiContractStatusValue } from '../status-labels.ts';
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
  await trx
    .insertInto('hubspot_deal_sync')
    .values({
      portal_id: request.portalId,
      deal_id: request.dealId,
      organization_id: request.organizationId,
      contract_id: request.contractId,
      desired_status: request.status,
      desired_contract_url: request.contractUrl ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['portal_id', 'deal_id']).doUpdateSet((eb) => ({
        organization_id: eb.ref('excluded.organization_id'),
        contract_id: eb.fn.coalesce(
          eb.ref('excluded.contract_id'),
          eb.ref('hubspot_deal_sync.contract_id'),
        ),
        desired_status: eb.ref('excluded.desired_status'),
        desired_contract_url:
          request.contractUrl === undefined
            ? eb.ref('hubspot_deal_sync.desired_contract_url')
            : eb.ref('excluded.desired_contract_url'),
        version: sql<number>`nextval('hubspot_deal_sync_version_seq')`,
        state: 'pending',
        attempts: 0,
        last_error: null,
        updated_at: new Date(),
      })),
    )
    .execute();
  await jobs.send(
    trx,
    syncPortalDealsJob,
    { portalId: request.portalId },
    { singletonKey: request.portalId },
  );
}
