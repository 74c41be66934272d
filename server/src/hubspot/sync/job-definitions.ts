import { z } from 'zod';

import { defineJob } from '../../jobs/queue.ts';

/**
 * Drains one portal's deal-sync outbox in `batch/update` calls. One queued job per portal
 * (singletonKey = portal id): enqueueing again while one waits adds nothing, and the job
 * re-enqueues itself while rows remain.
 */
export const syncPortalDealsJob = defineJob({
  name: 'hubspot-sync-portal-deals',
  schema: z.object({ portalId: z.string().regex(/^\d+$/) }),
  retryLimit: 20,
  retryDelaySeconds: 2,
  concurrency: 4,
  // One queued and one running job per portal at most.
  policy: 'stately',
});
