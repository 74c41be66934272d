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
import { backoffDelayMs } from '../../platform/backoff.ts';
import { hubspotCalls } from '../../platform/metrics.ts';

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
   * limiter (only for calls HubSpot does not count, such as the OAuth endpoints and CRM
   * search, whose own 5 per second the caller keeps with `tryTakeSearchSlot`).
   */
  readonly rateLane?: RateLane | false;
  /** Per-attempt timeout (default: hubspotRequest's). */
  readonly timeoutMs?: number;
}

export type PortalRequest = Omit<HubSpotRequest, 'accessToken'>;

/** HubSpot retries: from `baseDelayMs`, at most 10 s, or what its `Retry-After` says (≤ 30 s). */
export function hubspotRetryDelayMs(
  attempt: number,
  baseDelayMs: number,
  error: HubSpotApiError,
): number {
  return error.retryAfterMs !== undefined
    ? backoffDelayMs(attempt, {
        baseMs: baseDelayMs,
        maxMs: 30_000,
        retryAfterMs: error.retryAfterMs,
      })
    : backoffDelayMs(attempt, { baseMs: baseDelayMs, maxMs: 10_000 });
}

/** `/crm/objects/<version>/deals/batch/update` → `crm/objects/deals`: versions and ids left out. */
function endpointFamily(path: string): string {
  const parts = path.split('?')[0]?.split('/') ?? [];
  const named = parts.filter((p) => p !== '' && !/^\d[\d-]*$/.test(p));
  return named.slice(0, 3).join('/');
}

/** Counts the call by endpoint family and status (0: no answer) into the metrics. */
async function countHubSpotCall<T extends { status: number }>(
  path: string,
  call: Promise<T>,
): Promise<T> {
  try {
    const response = await call;
    hubspotCalls.inc({ family: endpointFamily(path), status: String(response.status) });
    return response;
  } catch (error) {
    if (error instanceof HubSpotApiError) {
      hubspotCalls.inc({ family: endpointFamily(path), status: String(error.status) });
    }
    throw error;
  }
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
        return countHubSpotCall(
          request.path,
          hubspotRequest(
            deps.hubspot.apiBaseUrl,
            {
              ...request,
              accessToken,
              signal,
              ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
            },
            schema,
          ),
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
      await sleep(hubspotRetryDelayMs(attempt, baseDelayMs, error), undefined, { signal });
    }
  }
}
