import { z } from 'zod';

import { defineJob } from '../../platform/jobs/queue.ts';

const PortalId = z.string().regex(/^\d+$/);

/**
 * Drains one portal's deal-sync outbox in `batch/update` calls, several in flight at once.
 * One queued and one running job per key (stately): the main key is the portal id; a busy
 * portal adds one helper job (key `<portal>:helper`) so a second process can share the work
 * under the same rate budget. The job re-enqueues itself while rows remain.
 */
export const syncPortalDealsJob = defineJob({
  name: 'hubspot-sync-portal-deals',
  schema: z.object({ portalId: PortalId, helper: z.boolean().optional() }),
  retryLimit: 20,
  retryDelaySeconds: 2,
  concurrency: 4,
  policy: 'stately',
});

/** Processes one portal's stored webhook events in `occurredAt` order. */
export const processPortalEventsJob = defineJob({
  name: 'hubspot-process-portal-events',
  schema: z.object({ portalId: PortalId }),
  retryLimit: 20,
  retryDelaySeconds: 2,
  concurrency: 4,
  policy: 'stately',
});

/** Completes the "wait for legal decision" workflow callbacks of a portal that are decided. */
export const completeDecisionCallbacksJob = defineJob({
  name: 'hubspot-complete-decision-callbacks',
  schema: z.object({ portalId: PortalId }),
  retryLimit: 20,
  retryDelaySeconds: 5,
  concurrency: 2,
  policy: 'stately',
});

/**
 * Every minute: re-enqueues work nothing is queued for (pending rows of connected portals,
 * e.g. after a reconnect or after a job ran out of retries; unprocessed events; decided
 * callbacks) and expires waiting callbacks. Re-sends itself.
 */
export const sweepHubSpotSyncJob = defineJob({
  name: 'hubspot-sync-sweep',
  schema: z.object({}),
  retryLimit: 3,
  retryDelaySeconds: 10,
  concurrency: 1,
  policy: 'stately',
});

export const SWEEP_INTERVAL_SECONDS = 60;
