import { z } from 'zod';

/**
 * The request HubSpot POSTs to a custom workflow action's `actionUrl`. Tenant =
 * `origin.portalId`; deal id = `object.objectId`.
 */
export const WorkflowActionExecutionSchema = z.object({
  callbackId: z.string().min(1),
  origin: z.looseObject({
    portalId: z.number().int(),
    actionDefinitionId: z.number().int(),
    actionDefinitionVersion: z.number().int().optional(),
  }),
  context: z.looseObject({
    source: z.string().optional(),
    workflowId: z.number().int().optional(),
  }),
  object: z.object({
    objectId: z.number().int(),
    objectType: z.string(),
    properties: z.record(z.string(), z.string().nullable()).optional(),
  }),
  inputFields: z.record(z.string(), z.unknown()).default({}),
});
export type WorkflowActionExecution = z.output<typeof WorkflowActionExecutionSchema>;

export const ExecutionStateSchema = z.enum(['SUCCESS', 'FAIL_CONTINUE', 'BLOCK', 'ASYNC']);
export type ExecutionState = z.infer<typeof ExecutionStateSchema>;

/** What the app answers to an action execution. */
export const WorkflowActionResponseSchema = z.object({
  outputFields: z.record(z.string(), z.string()).optional(),
});
export type WorkflowActionResponse = z.infer<typeof WorkflowActionResponseSchema>;

/**
 * `CallbackCompletionRequest`: `POST /automation/actions/callbacks/{v}/{id}/complete`.
 * The spec requires `typedOutputs` as well as `outputFields` (send `{}` when empty).
 */
export const CallbackCompletionSchema = z.object({
  outputFields: z.record(z.string(), z.string()),
  typedOutputs: z.record(z.string(), z.unknown()),
  failureReasonType: z.string().optional(),
});
export type CallbackCompletion = z.infer<typeof CallbackCompletionSchema>;
