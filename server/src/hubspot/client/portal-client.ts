import { setTimeout as sleep } from 'node:timers/promises';

import type { z } from 'zod';

import { withPortalToken, type HubSpotTokenDeps } from '../oauth/access-tokens.ts';
import {
  HubSpotApiError,
  hubspotRequest,
  type HubSpotRequest,
  type HubSpotResponse,
} from './hubspot-http.ts';

/**
 * Calls HubSpot on behalf of one portal: a valid token (one refresh-and-retry on 401), and
 * a bounded number of retries with exponential backoff and jitter on 429/5xx/timeouts.
 */
export interface PortalClientOptions {
  /** Attempts in total, first included. Default 4. */
  readonly maxAttempts?: number;
  /** First backoff; doubles per attempt, capped at 10 s. Default 500 ms. */
  readonly baseDelayMs?: number;
  readonly signal?: AbortSignal;
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
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await withPortalToken(deps, portalId, (accessToken) =>
        hubspotRequest(
          deps.hubspot.apiBaseUrl,
          { ...request, accessToken, signal: options.signal },
          schema,
        ),
      );
    } catch (error) {
      if (!(error instanceof HubSpotApiError) || !error.retryable || attempt >= maxAttempts)
        throw error;
      await sleep(backoffDelayMs(attempt, baseDelayMs, error), undefined, {
        signal: options.signal,
      });
    }
  }
}
