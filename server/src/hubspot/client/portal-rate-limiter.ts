import { setTimeout as sleep } from 'node:timers/promises';

import { rateLimitWaits, rateLimitWaitSeconds } from '../../platform/metrics.ts';

import { sql, type Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';

/**
 * HubSpot allows 110 requests per rolling 10 s per installed portal. Every process of the
 * app shares one budget per portal through Postgres: a sliding-window log of send times
 * (`hubspot_rate_sends`), read and appended under a transaction-scoped advisory lock on the
 * portal, with the database clock as the one clock. A caller takes a slot, commits, and only
 * then sends, so the lock is never held across an HTTP call and many requests can be in
 * flight at once.
 *
 * Lanes: background sync may use at most `syncBudget` of the window, so interactive calls
 * (cards, workflow actions, imports) always find `totalBudget - syncBudget` slots free.
 * `marginMs` widens the window a little: a request reaches HubSpot slightly after we record
 * it, and the margin absorbs that skew at the window edge.
 */

export type RateLane = 'sync' | 'interactive';

export interface RateLimitPolicy {
  readonly windowMs: number;
  readonly marginMs: number;
  /** All lanes together never exceed this in one window. */
  readonly totalBudget: number;
  /** The sync lane only takes a slot while fewer than this were sent in the window. */
  readonly syncBudget: number;
  /** Pause after a 429 without a usable Retry-After. */
  readonly pauseAfter429Ms: number;
}

export const DEFAULT_RATE_LIMIT_POLICY: RateLimitPolicy = {
  windowMs: 10_000,
  marginMs: 150,
  totalBudget: 110,
  syncBudget: 100,
  pauseAfter429Ms: 2_000,
};

export interface SlotDecision {
  /** True when a slot was taken (and recorded). */
  readonly granted: boolean;
  /** When not granted: how long to wait before asking again. */
  readonly waitMs: number;
}

/**
 * Pure decision: given the send times still inside the window (ascending, ms), may one more
 * request of `lane` go now, and if not, when will it.
 */
export function decideSlot(
  nowMs: number,
  sendTimesAsc: readonly number[],
  lane: RateLane,
  policy: RateLimitPolicy = DEFAULT_RATE_LIMIT_POLICY,
  pausedUntilMs?: number,
): SlotDecision {
  if (pausedUntilMs !== undefined && pausedUntilMs > nowMs) {
    return { granted: false, waitMs: pausedUntilMs - nowMs };
  }
  const span = policy.windowMs + policy.marginMs;
  const inWindow = sendTimesAsc.filter((t) => t > nowMs - span);
  const budget = lane === 'sync' ? policy.syncBudget : policy.totalBudget;
  if (inWindow.length < budget) return { granted: true, waitMs: 0 };
  // Enough of the oldest sends must leave the window to bring the count below the budget.
  const leaving = inWindow[inWindow.length - budget];
  const waitMs = leaving === undefined ? policy.windowMs : leaving + span - nowMs;
  return { granted: false, waitMs: Math.max(1, waitMs) };
}

/** One round trip: `hubspot_take_rate_slot` (migration 0010) applies `decideSlot`'s rule. */
export async function tryTakeSlot(
  db: Kysely<DB>,
  portalId: string,
  lane: RateLane,
  policy: RateLimitPolicy = DEFAULT_RATE_LIMIT_POLICY,
): Promise<SlotDecision> {
  const budget = lane === 'sync' ? policy.syncBudget : policy.totalBudget;
  const { rows } = await sql<{ granted: boolean; wait_ms: number }>`
    select granted, wait_ms from hubspot_take_rate_slot(
      ${portalId}, ${lane}, ${policy.windowMs + policy.marginMs}::integer, ${budget}::integer)
  `.execute(db);
  const row = rows[0];
  if (!row) throw new Error('hubspot_take_rate_slot returned no row');
  return { granted: row.granted, waitMs: row.wait_ms };
}

/**
 * Waits until the portal's shared budget has room for one request of `lane`, records it and
 * returns. The caller sends right after. Honours `signal` while waiting.
 */
export async function acquireRateSlot(
  db: Kysely<DB>,
  portalId: string,
  lane: RateLane,
  options: { signal?: AbortSignal; policy?: RateLimitPolicy } = {},
): Promise<void> {
  const policy = options.policy ?? DEFAULT_RATE_LIMIT_POLICY;
  for (;;) {
    options.signal?.throwIfAborted();
    const decision = await tryTakeSlot(db, portalId, lane, policy);
    if (decision.granted) return;
    // A little jitter so waiters from several processes do not all wake in the same ms.
    const jitter = Math.floor(Math.random() * 20);
    const waitMs = Math.min(decision.waitMs, policy.windowMs) + jitter;
    rateLimitWaits.inc({ lane });
    rateLimitWaitSeconds.inc({ lane }, waitMs / 1000);
    await sleep(waitMs, undefined, {
      signal: options.signal,
    });
  }
}

/**
 * After a 429, holds every caller of this portal (every process) for `ms`; other portals go
 * on. A longer pause already in place is kept.
 */
export async function pausePortal(
  db: Kysely<DB>,
  portalId: string,
  ms: number,
  reason: string,
): Promise<void> {
  const until = sql<Date>`clock_timestamp() + ${`${Math.max(0, Math.round(ms))} milliseconds`}::interval`;
  await db
    .insertInto('hubspot_rate_pauses')
    .values({ portal_id: portalId, paused_until: until, reason })
    .onConflict((oc) =>
      oc.column('portal_id').doUpdateSet({
        paused_until: sql<Date>`greatest(hubspot_rate_pauses.paused_until, excluded.paused_until)`,
        reason,
      }),
    )
    .execute();
}
