import { z } from 'zod';

import { defineJob } from '../../platform/jobs/queue.ts';

const FileFilterSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('all') }),
  z.object({ mode: z.literal('matching'), pattern: z.string().min(1).max(200) }),
]);

/** What routing decided for a send: the rule (null = the default), priority and queue. */
export const RoutedSchema = z.object({
  rulesVersion: z.number().int().nonnegative(),
  rule: z.object({ id: z.string(), name: z.string() }).nullable(),
  priority: z.enum(['low', 'normal', 'high', 'urgent']),
  queue: z.string(),
});
export type Routed = z.infer<typeof RoutedSchema>;

/** Retries of one import after a transient failure (HubSpot down, timeouts, a crash). */
export const IMPORT_RETRY_LIMIT = 4;

/**
 * Imports a deal and its attachments into a contract shell. Idempotent and resumable:
 * files already stored on the contract (same HubSpot file id or same SHA-256) are skipped,
 * so a retry after a crash only fetches what is missing.
 */
export const importDealJob = defineJob({
  name: 'hubspot-import-deal',
  schema: z.object({
    organizationId: z.uuid(),
    portalId: z.string().regex(/^\d+$/),
    dealId: z.string().min(1),
    contractId: z.uuid(),
    trigger: z.enum(['workflow', 'card', 'stage_rule']),
    actor: z.string().min(1),
    fileFilter: FileFilterSchema.default({ mode: 'all' }),
    fileIds: z.array(z.string()).optional(),
    /** An explicit priority (the workflow action's input); else the routing rules decide. */
    priority: z.enum(['low', 'normal', 'high', 'urgent']).optional(),
    /** The routing decided before the job (an automatic send keeps the rule that sent it). */
    routing: RoutedSchema.optional(),
    note: z.string().nullable().default(null),
    callbackId: z.string().optional(),
    requestedAt: z.string(),
  }),
  retryLimit: IMPORT_RETRY_LIMIT,
  retryDelaySeconds: 5,
  // A 100 MB file over a slow link still fits; a dead worker's job is retried after this.
  expireInSeconds: 30 * 60,
  concurrency: 2,
});

export type ImportDealPayload = z.output<typeof importDealJob.schema>;

/** Completes a blocked workflow-action execution through HubSpot's callbacks API. */
export const completeWorkflowCallbackJob = defineJob({
  name: 'hubspot-complete-workflow-callback',
  schema: z.object({
    portalId: z.string().regex(/^\d+$/),
    callbackId: z.string().min(1),
    outputFields: z.record(z.string(), z.string()),
  }),
  retryLimit: 8,
  retryDelaySeconds: 5,
  concurrency: 4,
});

export type CompleteWorkflowCallbackPayload = z.output<typeof completeWorkflowCallbackJob.schema>;
