import { z } from 'zod';

import { defineJob } from '../../platform/jobs/queue.ts';
import { PortalId } from '../outbox/job-definitions.ts';

/** Processes one portal's stored webhook events in `occurredAt` order. */
export const processPortalEventsJob = defineJob({
  name: 'hubspot-process-portal-events',
  schema: z.object({ portalId: PortalId }),
  retryLimit: 20,
  retryDelaySeconds: 2,
  concurrency: 4,
  policy: 'stately',
});
