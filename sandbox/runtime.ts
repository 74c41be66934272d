import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyReply, FastifyRequest } from 'fastify';

import { RATE_LIMIT_HEADERS } from './wire.ts';
import { SandboxHttpError, hubspotError, rateLimitBody, secondlyLimitBody } from './errors.ts';
import type { AccessTokenRecord, PortalRecord, SandboxState } from './state.ts';
import type {
  CallbackCompletionRecord,
  FaultInput,
  RequestLogEntry,
  TokenCallRecord,
  WorkflowActionResult,
} from './types.ts';

interface ActiveFault {
  readonly id: string;
  readonly pattern: RegExp;
  readonly method: string | undefined;
  readonly status: number | undefined;
  readonly delayMs: number;
  remaining: number;
}

/**
 * A rolling window's count at `arrived`: the arrivals in (arrived − windowMs, arrived], and
 * the arrivals still worth keeping (a minute past the window, for requests answered late).
 */
function countArrivals(
  arrivals: readonly number[],
  arrived: number,
  now: number,
  limit: { readonly windowMs: number },
): { kept: number[]; inWindow: number } {
  const kept = arrivals.filter((t) => t > now - limit.windowMs - 60_000);
  const inWindow = kept.filter((t) => t > arrived - limit.windowMs && t <= arrived).length;
  return { kept, inWindow };
}

/** Shared mutable context of one running sandbox: state, logs, faults, rate windows. */
export class SandboxRuntime {
  readonly state: SandboxState;
  readonly rateLimit: { max: number; windowMs: number };
  readonly requestLog: RequestLogEntry[] = [];
  readonly tokenCalls: TokenCallRecord[] = [];
  readonly workflowExecutions: WorkflowActionResult[] = [];
  readonly callbacks = new Map<string, { portalId: number; dealId: string }>();
  readonly completions: CallbackCompletionRecord[] = [];
  readonly closing = new AbortController();
  /** Portal a request was attributed to (for the request log). */
  readonly requestPortal = new WeakMap<FastifyRequest, number>();
  readonly faultedRequests = new WeakSet<FastifyRequest>();
  /** When each API request arrived (before any injected latency): what the limit counts. */
  readonly arrivals = new WeakMap<FastifyRequest, number>();
  /** Lean answers (`lean.ts`): leave out every answer field the app does not read. */
  leanAnswers = false;
  /**
   * The CRM search endpoints' own limit (5 per second per portal, usage guidelines); the
   * spec marks them exempt from the ten-secondly one, so they are counted only here.
   */
  searchRateLimit: { max: number; windowMs: number } = { max: 5, windowMs: 1_000 };
  /** How long a new note stays out of search results (HubSpot indexes records late). */
  searchIndexDelayMs = 0;
  /** Arrival times of each portal's search requests, by portal id. */
  private readonly searchWindows = new Map<number, number[]>();
  private faults: ActiveFault[] = [];
  private nextFaultId = 1;
  origin = '';

  constructor(state: SandboxState, rateLimit: { max: number; windowMs: number }) {
    this.state = state;
    this.rateLimit = rateLimit;
  }

  addFault(input: FaultInput): { id: string } {
    const count = input.count ?? 1;
    if (!Number.isSafeInteger(count) || count < 1) throw new Error('fault count must be ≥ 1');
    if (input.status === undefined && input.hangMs === undefined && input.latencyMs === undefined) {
      throw new Error('a fault needs a status, hangMs or latencyMs');
    }
    const id = `fault-${this.nextFaultId++}`;
    this.faults.push({
      id,
      pattern: typeof input.path === 'string' ? new RegExp(input.path) : input.path,
      method: input.method?.toUpperCase(),
      status: input.status,
      delayMs: (input.hangMs ?? 0) + (input.latencyMs ?? 0),
      remaining: count,
    });
    return { id };
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Consumes the first fault matching this request, if any. */
  takeFault(method: string, path: string): ActiveFault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 && (f.method === undefined || f.method === method) && f.pattern.test(path),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  async applyFault(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    this.arrivals.set(request, this.state.now());
    const path = request.url.split('?')[0] ?? request.url;
    const fault = this.takeFault(request.method, path);
    if (!fault) return;
    this.faultedRequests.add(request);
    if (fault.delayMs > 0) {
      try {
        await sleep(fault.delayMs, undefined, { signal: this.closing.signal });
      } catch {
        return; // shutting down
      }
    }
    if (fault.status === undefined) return;
    if (fault.status === 429) {
      await reply
        .code(429)
        .header(RATE_LIMIT_HEADERS.max, String(this.rateLimit.max))
        .header(RATE_LIMIT_HEADERS.remaining, '0')
        .header(RATE_LIMIT_HEADERS.intervalMs, String(this.rateLimit.windowMs))
        .send(rateLimitBody());
      return;
    }
    const error = hubspotError(fault.status, 'INTERNAL_ERROR', 'internal error (injected fault)');
    await reply.code(error.statusCode).send(error.body);
  }

  reset(): void {
    this.requestLog.length = 0;
    this.tokenCalls.length = 0;
    this.workflowExecutions.length = 0;
    this.completions.length = 0;
    this.clearFaults();
    for (const portal of this.state.portals.values()) portal.rateWindow = [];
    this.searchWindows.clear();
  }

  /**
   * Bearer authentication like HubSpot's: 401 for a missing/unknown/revoked token, 401
   * EXPIRED_AUTHENTICATION once expired, then the per-portal rolling rate limit (429), then
   * scopes (403, any one of `anyOfScopes`). `limit` says which rate limit counts the request:
   * the portal's ten-secondly one, or the search endpoints' secondly one.
   */
  authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
    anyOfScopes: readonly string[],
    limit: 'ten-secondly' | 'search' = 'ten-secondly',
  ): { portal: PortalRecord; token: AccessTokenRecord } {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const token = match?.[1] ? this.state.accessTokens.get(match[1]) : undefined;
    if (!token || token.revoked) {
      throw hubspotError(
        401,
        'INVALID_AUTHENTICATION',
        'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
      );
    }
    const now = this.state.now();
    if (now >= token.expiresAt) {
      const minutes = Math.max(1, Math.floor((now - token.expiresAt) / 60_000));
      throw hubspotError(
        401,
        'EXPIRED_AUTHENTICATION',
        `The OAuth token used to make this call expired ${minutes} minute(s) ago.`,
      );
    }
    const portal = this.state.portal(token.portalId);
    this.requestPortal.set(request, portal.portalId);
    // Like HubSpot's edge, the rolling window counts requests by when they ARRIVED: an
    // injected latency delays the answer, not the moment the request is counted. Requests
    // that arrived later but were answered sooner are not counted against this one.
    const arrived = Math.min(this.arrivals.get(request) ?? now, now);
    if (limit === 'search') this.countSearch(portal.portalId, arrived, now);
    else this.countTenSecondly(portal, arrived, now, reply);
    if (anyOfScopes.length > 0 && !anyOfScopes.some((s) => token.scopes.includes(s))) {
      throw hubspotError(
        403,
        'MISSING_SCOPES',
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        {
          errors: [
            {
              message: 'One or more of the following scopes are required.',
              context: { requiredGranularScopes: [...anyOfScopes] },
            },
          ],
          links: { scopes: 'https://developers.hubspot.com/scopes' },
        },
      );
    }
    return { portal, token };
  }

  private countTenSecondly(
    portal: PortalRecord,
    arrived: number,
    now: number,
    reply: FastifyReply,
  ): void {
    const { kept, inWindow } = countArrivals(portal.rateWindow, arrived, now, this.rateLimit);
    portal.rateWindow = kept;
    if (inWindow >= this.rateLimit.max) {
      throw new SandboxHttpError(429, rateLimitBody(), {
        [RATE_LIMIT_HEADERS.max]: String(this.rateLimit.max),
        [RATE_LIMIT_HEADERS.remaining]: '0',
        [RATE_LIMIT_HEADERS.intervalMs]: String(this.rateLimit.windowMs),
      });
    }
    portal.rateWindow.push(arrived);
    void reply
      .header(RATE_LIMIT_HEADERS.max, String(this.rateLimit.max))
      .header(RATE_LIMIT_HEADERS.remaining, String(this.rateLimit.max - inWindow - 1))
      .header(RATE_LIMIT_HEADERS.intervalMs, String(this.rateLimit.windowMs));
  }

  /** The search limit answers 429 "secondly" and, like HubSpot, sends no rate headers. */
  private countSearch(portalId: number, arrived: number, now: number): void {
    const limit = this.searchRateLimit;
    const { kept, inWindow } = countArrivals(
      this.searchWindows.get(portalId) ?? [],
      arrived,
      now,
      limit,
    );
    this.searchWindows.set(portalId, kept);
    if (inWindow >= limit.max) throw new SandboxHttpError(429, secondlyLimitBody());
    kept.push(arrived);
  }
}
