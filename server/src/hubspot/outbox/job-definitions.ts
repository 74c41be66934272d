import { z } from 'zod';

import { defineJob } from '../../platform/jobs/queue.ts';

/** HubSpot portal ids are decimal numbers; job payloads are re-checked when they run. */
export const PortalId = z.string().regex(/^\d+$/);

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
  // Portals at once per process. A job spends most of its time waiting for its portal's
  // paced rate slots (10.6 calls/s), not on CPU, so a process can drive many portals.
  concurrency: 12,
  policy: 'stately',
});
