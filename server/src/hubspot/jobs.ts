import { sql } from 'kysely';

import {
  completeDecisionCallbacks,
  expireDecisionCallbacks,
} from './legal-review/decision-callbacks.ts';
import { hubSpotTokenDeps } from './client/access-tokens.ts';
import { retryPendingProvisioning } from './install/provisioning-sweep.ts';
import { DealStageCache } from './legal-review/pipeline-stages.ts';
import { processPortalEvents } from './webhooks/process-events.ts';
import type { WorkerDeps } from '../platform/jobs/worker-deps.ts';
import { completeDecisionCallbacksJob } from './legal-review/decision-job.ts';
import { syncPortalDealsJob } from './outbox/job-definitions.ts';
import { processPortalEventsJob } from './webhooks/job-definitions.ts';
import { failStuckImports, handleImportDealJob } from './legal-review/import-job.ts';
import { purgeExpiredRows } from './retention.ts';
import {
  DEFAULT_IMPORT_STUCK_AFTER_SECONDS,
  DEFAULT_SWEEP_INTERVAL_SECONDS,
  sweepCron,
} from '../platform/config/env.ts';
import { completeWorkflowCallbackJob, importDealJob } from './legal-review/job-definitions.ts';
import { handleCompleteWorkflowCallback } from './legal-review/workflow-callback.ts';
import { handleWriteBackFilesJob, writeBackFilesJob } from './legal-review/file-write-back.ts';
import { handleTimelineNoteJob, timelineNoteJob } from './legal-review/timeline-notes.ts';
import { defineJob } from '../platform/jobs/queue.ts';
import { z } from 'zod';
import { syncPortalDeals } from './outbox/portal-sync.ts';

/**
 * Every minute (`SWEEP_INTERVAL_SECONDS`): re-enqueues work nothing is queued for (pending
 * rows of connected portals, e.g. after a reconnect or after a job ran out of retries;
 * unprocessed events; decided callbacks), expires waiting callbacks, retries unfinished
 * portal setup, fails stuck imports and applies the retention rules (`retention.ts`).
 * Scheduled with pg-boss's cron (`schedule()`), so one sweep runs per interval across all
 * workers.
 */
export const sweepHubSpotSyncJob = defineJob({
  name: 'hubspot-sync-sweep',
  schema: z.object({}),
  retryLimit: 3,
  retryDelaySeconds: 10,
  concurrency: 1,
  policy: 'stately',
});

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
  await expireDecisionCallbacks(db, jobs);
  await retryPendingProvisioning(hubSpotTokenDeps(deps), deps.log);
  // Imports nothing will finish (a worker lost during the last retry) fail like a last attempt.
  await failStuckImports(deps, {
    stuckAfterSeconds: deps.config.importStuckAfterSeconds ?? DEFAULT_IMPORT_STUCK_AFTER_SECONDS,
  });
  const purged = await purgeExpiredRows(db);
  if (Object.values(purged).some((n) => n > 0)) deps.log.info({ purged }, 'retention purge');
}

/**
 * Registers every HubSpot job handler in a worker process (import, workflow callbacks, deal
 * sync, webhook events, decision callbacks) and the sweep's schedule.
 */
export async function startHubSpotJobs(deps: WorkerDeps): Promise<void> {
  const { db, jobs, log } = deps;
  const tokenDeps = hubSpotTokenDeps(deps);
  const stages = new DealStageCache();

  await jobs.work(importDealJob, (payload, job) => handleImportDealJob(deps, payload, job));
  await jobs.work(completeWorkflowCallbackJob, (payload, job) =>
    handleCompleteWorkflowCallback(deps, payload, job, completeWorkflowCallbackJob.retryLimit ?? 0),
  );

  await jobs.work(writeBackFilesJob, (payload, job) =>
    handleWriteBackFilesJob(deps, payload, job.signal),
  );

  await jobs.work(timelineNoteJob, (payload, job) =>
    handleTimelineNoteJob(deps, payload, job.signal),
  );

  await jobs.work(syncPortalDealsJob, async (payload, job) => {
    await syncPortalDeals({ db, jobs, tokenDeps, log }, payload.portalId, {
      signal: job.signal,
      ...(payload.helper ? { helper: true } : {}),
    });
  });

  await jobs.work(processPortalEventsJob, async (payload, job) => {
    await processPortalEvents(
      { db, jobs, config: deps.config, tokenDeps, stages, log },
      payload.portalId,
      job.signal,
    );
  });

  await jobs.work(completeDecisionCallbacksJob, async (payload, job) => {
    await completeDecisionCallbacks(
      { db, tokenDeps, publicBaseUrl: deps.config.publicBaseUrl },
      payload.portalId,
      job.signal,
    );
  });

  await jobs.work(sweepHubSpotSyncJob, async () => {
    await sweepHubSpotSync(deps);
  });
  const interval = deps.config.sweepIntervalSeconds ?? DEFAULT_SWEEP_INTERVAL_SECONDS;
  await jobs.schedule(sweepHubSpotSyncJob, sweepCron(interval) ?? '* * * * *');
  // pg-boss's cron fires at most once a minute: a shorter interval is kept by a timer too.
  if (interval < 60) jobs.repeat(sweepHubSpotSyncJob, interval);
}
