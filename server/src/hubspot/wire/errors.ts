import { z } from 'zod';

/** One entry of `errors[]` in HubSpot's standard error envelope. */
export const HubSpotErrorDetailSchema = z.object({
  message: z.string(),
  code: z.string().optional(),
  in: z.string().optional(),
  subCategory: z.string().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
});
export type HubSpotErrorDetail = z.infer<typeof HubSpotErrorDetailSchema>;

/**
 * HubSpot's standard error envelope (`{ status: 'error', message, correlationId, category,
 * errors? }`). Every field but `message` is optional when reading, because HubSpot does not
 * promise them on every path.
 */
export const HubSpotErrorSchema = z.object({
  status: z.string().optional(),
  message: z.string(),
  correlationId: z.string().optional(),
  category: z.string().optional(),
  subCategory: z.string().optional(),
  errors: z.array(HubSpotErrorDetailSchema).optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  links: z.record(z.string(), z.string()).optional(),
});
export type HubSpotError = z.infer<typeof HubSpotErrorSchema>;

/** The 429 body of the per-portal burst limit (`TEN_SECONDLY_ROLLING`). */
export const RateLimitErrorSchema = HubSpotErrorSchema.extend({
  status: z.literal('error'),
  category: z.literal('RATE_LIMITS'),
  policyName: z.string(),
  errorType: z.string().optional(),
  requestId: z.string().optional(),
});
export type RateLimitError = z.infer<typeof RateLimitErrorSchema>;

/** Header names HubSpot sends on OAuth-authenticated API calls. */
export const RATE_LIMIT_HEADERS = {
  max: 'x-hubspot-ratelimit-max',
  remaining: 'x-hubspot-ratelimit-remaining',
  intervalMs: 'x-hubspot-ratelimit-interval-milliseconds',
} as const;
