import { z } from 'zod';

/**
 * One webhook event. HubSpot sends `subscriptionType` (older material says `eventType`; both
 * are accepted). `eventId` is not guaranteed unique. Unknown fields are dropped when parsing.
 */
export const WebhookEventSchema = z.object({
  eventId: z.number().int(),
  subscriptionId: z.number().int(),
  portalId: z.number().int(),
  appId: z.number().int(),
  occurredAt: z.number().int(),
  subscriptionType: z.string().optional(),
  eventType: z.string().optional(),
  attemptNumber: z.number().int(),
  objectId: z.number().int(),
  objectTypeId: z.string().optional(),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
  changeSource: z.string().optional(),
  sourceId: z.string().optional(),
  changeFlag: z.string().optional(),
});
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

/** A delivery: a JSON array of at most 100 events. */
export const WebhookEventBatchSchema = z.array(WebhookEventSchema).max(100);
export type WebhookEventBatch = z.infer<typeof WebhookEventBatchSchema>;
