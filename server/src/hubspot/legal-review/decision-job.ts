import { z } from 'zod';

import { defineJob } from '../../platform/jobs/queue.ts';
import { PortalId } from '../outbox/job-definitions.ts';

/** Completes the "wait for legal decision" workflow callbacks of a portal that are decided. */
export const completeDecisionCallbacksJob = defineJob({
  name: 'hubspot-complete-decision-callbacks',
  schema: z.object({ portalId: PortalId }),
  retryLimit: 20,
  retryDelaySeconds: 5,
  concurrency: 2,
  policy: 'stately',
});
