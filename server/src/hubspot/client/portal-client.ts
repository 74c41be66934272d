import { setTimeout as sleep } from 'node:timers/promises';

import type { z } from 'zod';

import { withPortalToken, type HubSpotTokenDeps } from './access-tokens.ts';
import {
  acquireRateSlot,
  DEFAULT_RATE_LIMIT_POLICY,
  pausePortal,
  type RateLane,
} from './portal-rate-limiter.ts';
import {
  HubSpotApiError,
  hubspotRequest,
  type HubSpotRequest,
  type HubSpotResponse,
} from './hubspot-http.ts';

/**
 * Calls HubSpot on behalf of one portal: a slot of the portal's shared rate budget before
 * every attempt (all processes count against one budget; a 429 pauses the portal), a valid
 * token (one refresh-and-retry on 401), and a bounded number of retries with exponential
 * backoff and jitter on 429/5xx/timeouts.
 */
export interface PortalClientOptions {
  /** Attempts in total, first included. Default 4. */
  readonly maxAttempts?: number;
  /** First backoff; doubles per attempt, capped at 10 s. Default 500 ms. */
  readonly baseDelayMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Which share of the portal's rate budget this call uses: `interactive` (default) may use
   * the whole budget, `sync` leaves a reserve for interactive calls, `false` skips the
   * limiter (only for calls HubSpot does not count, such as the OAuth endpoints).
   */
  readonly rateLane?: RateLane | false;
  /** Per-attempt timeout (default: hubspotRequest's). */
  readonly timeoutMs?: number;
}

export type PortalRequest = Omit<HubSpotRequest, 'accessToken'>;

export function backoffDelayMs(
  attempt: number,
  baseDelayMs: number,
  error: HubSpotApiError,
): number {
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, 30_000);
  const ceiling = Math.min(10_000, baseDelayMs * 2 ** (attempt - 1));
  // Full jitter keeps many workers from retrying in lockstep.
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export async function portalRequest<S extends z.ZodType>(
  deps: HubSpotTokenDeps,
  portalId: string,
  request: PortalRequest,
  schema: S,
  options: PortalClientOptions = {},
): Promise<HubSpotResponse<z.output<S>>> {
  const maxAttempts = options.maxAttempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const lane = options.rateLane ?? 'interactive';
  const signal = options.signal;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await withPortalToken(deps, portalId, async (accessToken) => {
        // Taken after the token is known, right before the send: the recorded time is as
        // close as possible to when HubSpot sees the request.
        if (lane !== false) await acquireRateSlot(deps.db, portalId, lane, { signal });
        return hubspotRequest(
          deps.hubspot.apiBaseUrl,
          {
            ...request,
            accessToken,
            signal,
            ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          },
          schema,
        );
      });
    } catch (error) {
      if (error instanceof HubSpotApiError && error.status === 429 && lane !== false) {
        // Should not happen under the limiter; when it does, hold the whole portal back.
        await pausePortal(
          deps.db,
          portalId,
          error.retryAfterMs ?? DEFAULT_RATE_LIMIT_POLICY.pauseAfter429Ms,
          `429 on ${request.method} ${request.path}`,
        );
      }
      if (!(error instanceof HubSpotApiError) || !error.retryable || attempt >= maxAttempts)
        throw error;
      await sleep(backoffDelayMs(attempt, baseDelayMs, error), undefined, { signal });
    }
  }
}
