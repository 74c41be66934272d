import { sql } from 'kysely';

import {
  completeDecisionCallbacks,
  expireDecisionCallbacks,
} from './decision/decision-callbacks.ts';
import type { HubSpotTokenDeps } from './install/access-tokens.ts';
import { retryPendingProvisioning } from './install/provisioning-sweep.ts';
import { DealStageCache } from './webhooks/deal-stages.ts';
import { processPortalEvents } from './webhooks/process-events.ts';
import type { WorkerDeps } from '../platform/jobs/worker-deps.ts';
import {
  completeDecisionCallbacksJob,
  processPortalEventsJob,
  sweepHubSpotSyncJob,
  SWEEP_INTERVAL_SECONDS,
  syncPortalDealsJob,
} from './outbox/job-definitions.ts';
import { syncPortalDeals } from './outbox/portal-sync.ts';

/**
 * Re-enqueues what nothing is queued for: pending outbox rows of connected portals (after a
 * reconnect, or after a job gave up), webhook events left unprocessed, decided callbacks not
 * yet completed; expires waiting callbacks. Jobs dedupe per portal, so this is cheap.
 */
export async function sweepHubSpotSync(deps: WorkerDeps): Promise<void> {
  const { db, jobs } = deps;
  const syncPortals = await db
    .selectFrom('hubspot_deal_sync as s')
    .innerJoin('organization_integrations as i', (join) =>
      join
        .onRef('i.external_account_id', '=', 's.portal_id')
        .on('i.integration_id', '=', 'hubspot')
        .on('i.status', '=', 'connected'),
    )
    .select('s.portal_id')
    .distinct()
    .where('s.state', '=', 'pending')
    .where((eb) =>
      eb.or([eb('s.claimed_until', 'is', null), eb('s.claimed_until', '<', sql<Date>`now()`)]),
    )
    .execute();
  for (const { portal_id } of syncPortals) {
    await jobs.send(db, syncPortalDealsJob, { portalId: portal_id }, { singletonKey: portal_id });
  }
  const eventPortals = await db
    .selectFrom('hubspot_webhook_events')
    .select('portal_id')
    .distinct()
    .where('processed_at', 'is', null)
    .where('received_at', '<', sql<Date>`now() - interval '30 seconds'`)
    .execute();
  for (const { portal_id } of eventPortals) {
    await jobs.send(
      db,
      processPortalEventsJob,
      { portalId: portal_id },
      { singletonKey: portal_id },
    );
  }
  const callbackPortals = await db
    .selectFrom('hubspot_decision_callbacks')
    .select('portal_id')
    .distinct()
    .where('state', '=', 'completing')
    .execute();
  for (const { portal_id } of callbackPortals) {
    await jobs.send(
      db,
      completeDecisionCallbacksJob,
      { portalId: portal_id },
      { singletonKey: portal_id },
    );
  }
  await expireDecisionCallbacks(db);
  await retryPendingProvisioning(
    { db, keyring: deps.config.tokenEncryptionKeys, hubspot: deps.config.hubspot },
    deps.log,
  );
}

/** Registers the HubSpot status-sync job handlers (outbound sync, inbound events, callbacks). */
export async function registerSyncWorkers(deps: WorkerDeps): Promise<void> {
  const { config, db, jobs, log } = deps;
  const tokenDeps: HubSpotTokenDeps = {
    db,
    keyring: config.tokenEncryptionKeys,
    hubspot: config.hubspot,
  };
  const stages = new DealStageCache();

  await jobs.work(syncPortalDealsJob, async (payload, job) => {
    await syncPortalDeals({ db, jobs, tokenDeps, log }, payload.portalId, {
      signal: job.signal,
      ...(payload.helper ? { helper: true } : {}),
    });
  });

  await jobs.work(processPortalEventsJob, async (payload, job) => {
    await processPortalEvents(
      { db, jobs, config, tokenDeps, stages, log },
      payload.portalId,
      job.signal,
    );
  });

  await jobs.work(completeDecisionCallbacksJob, async (payload, job) => {
    await completeDecisionCallbacks({ db, tokenDeps }, payload.portalId, job.signal);
  });

  await jobs.work(sweepHubSpotSyncJob, async () => {
    try {
      await sweepHubSpotSync(deps);
    } finally {
      await jobs.send(
        db,
        sweepHubSpotSyncJob,
        {},
        {
          singletonKey: 'sweep',
          startAfterSeconds: SWEEP_INTERVAL_SECONDS,
        },
      );
    }
  });
  await jobs.send(
    db,
    sweepHubSpotSyncJob,
    {},
    {
      singletonKey: 'sweep',
      startAfterSeconds: SWEEP_INTERVAL_SECONDS,
    },
  );
}
