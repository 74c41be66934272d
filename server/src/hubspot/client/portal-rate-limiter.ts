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
 * Lanes: background sync may fill the window only up to `syncBudget`, a little below the
 * total, and is paced: at most `syncPerSecond` on average (a GCRA with `syncBurst` sends of
 * tolerance, its state in `hubspot_rate_pace`), so its sends, and therefore the moments a
 * slot frees, are spread evenly over the window instead of replaying one burst per window.
 * An interactive call (cards, workflow actions, imports) finds the `totalBudget - syncBudget`
 * reserve free, and when even that is used it gets the next slot that frees (about every
 * 100 ms), because sync may not take a slot until the window is back below its budget:
 * interactive calls go first, sync keeps what is left. 10.6 sync calls/s is 96 % of
 * HubSpot's 11/s and, over the widened window, stays within `syncBudget`.
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
  /** The sync lane's average pace (calls per second)… */
  readonly syncPerSecond: number;
  /** …with this many sends of tolerance: a late lane may catch up by up to this many. */
  readonly syncBurst: number;
  /** Pause after a 429 without a usable Retry-After. */
  readonly pauseAfter429Ms: number;
}

export const DEFAULT_RATE_LIMIT_POLICY: RateLimitPolicy = {
  windowMs: 10_000,
  marginMs: 150,
  totalBudget: 110,
  syncBudget: 108,
  syncPerSecond: 10.6,
  syncBurst: 2,
  pauseAfter429Ms: 2_000,
};

export interface RecordedSend {
  /** ms since the epoch, on the database clock. */
  readonly time: number;
  readonly lane: RateLane;
}

export interface SlotDecision {
  /** True when a slot was taken (and recorded). */
  readonly granted: boolean;
  /** When not granted: how long to wait before asking again. */
  readonly waitMs: number;
}

/** The sync pace's interval and tolerance, ms. */
export function syncPace(policy: RateLimitPolicy): { intervalMs: number; toleranceMs: number } {
  const intervalMs = 1000 / policy.syncPerSecond;
  return { intervalMs, toleranceMs: intervalMs * policy.syncBurst };
}

/**
 * Pure decision: given the sends still inside the window (ascending by time) and the sync
 * pace's theoretical next send time (`syncTatMs`, undefined before the first), may one more
 * request of `lane` go now; if not, when will it; if so, the pace's next `syncTatMs`.
 */
export function decideSlot(
  nowMs: number,
  sendsAsc: readonly RecordedSend[],
  lane: RateLane,
  policy: RateLimitPolicy = DEFAULT_RATE_LIMIT_POLICY,
  pausedUntilMs?: number,
  syncTatMs?: number,
): SlotDecision & { syncTatMs?: number } {
  if (pausedUntilMs !== undefined && pausedUntilMs > nowMs) {
    return { granted: false, waitMs: pausedUntilMs - nowMs };
  }
  const span = policy.windowMs + policy.marginMs;
  const inWindow = sendsAsc.filter((s) => s.time > nowMs - span);
  const budget = lane === 'sync' ? policy.syncBudget : policy.totalBudget;
  let waitMs = 0;
  if (inWindow.length >= budget) {
    // Enough of the oldest sends must leave the window to bring the count below the budget.
    const leaving = inWindow[inWindow.length - budget];
    waitMs = Math.max(1, leaving === undefined ? policy.windowMs : leaving.time + span - nowMs);
  }
  if (lane !== 'sync') return waitMs > 0 ? { granted: false, waitMs } : { granted: true, waitMs };
  const { intervalMs, toleranceMs } = syncPace(policy);
  if (syncTatMs !== undefined && nowMs < syncTatMs - toleranceMs) {
    waitMs = Math.max(waitMs, 1, Math.ceil(syncTatMs - toleranceMs - nowMs));
  }
  if (waitMs > 0) return { granted: false, waitMs };
  return {
    granted: true,
    waitMs: 0,
    syncTatMs: Math.max(syncTatMs ?? nowMs, nowMs) + intervalMs,
  };
}

/** One round trip: `hubspot_take_rate_slot` (migration 0019) applies `decideSlot`'s rule. */
export async function tryTakeSlot(
  db: Kysely<DB>,
  portalId: string,
  lane: RateLane,
  policy: RateLimitPolicy = DEFAULT_RATE_LIMIT_POLICY,
): Promise<SlotDecision> {
  const budget = lane === 'sync' ? policy.syncBudget : policy.totalBudget;
  const pace = syncPace(policy);
  const { rows } = await sql<{ granted: boolean; wait_ms: number }>`
    select granted, wait_ms from hubspot_take_rate_slot(
      ${portalId}, ${lane}, ${policy.windowMs + policy.marginMs}::integer, ${budget}::integer,
      ${lane === 'sync' ? pace.intervalMs : 0}::float8, ${pace.toleranceMs}::float8)
  `.execute(db);
  const row = rows[0];
  if (!row) throw new Error('hubspot_take_rate_slot returned no row');
  return { granted: row.granted, waitMs: row.wait_ms };
}

/**
 * HubSpot's CRM search endpoints allow 5 requests per second per portal and are exempt from
 * the 110 per 10 s (the spec's `x-hubspot-rate-limit-exemptions: ten-secondly`), so a search
 * takes no slot of the portal's budget, only one of these. Four per widened second leaves
 * room for the clock skew between our record and HubSpot's count. Kept in the same log as
 * the portal's budget, under its own key.
 */
export const SEARCH_RATE_LIMIT_POLICY: RateLimitPolicy = {
  ...DEFAULT_RATE_LIMIT_POLICY,
  windowMs: 1_000,
  marginMs: 150,
  totalBudget: 4,
  syncBudget: 0,
};

/**
 * Takes one of the portal's search slots if one is free now, never waiting: search only
 * ever saves a round trip, so a caller without a slot takes the way that needs none.
 */
export async function tryTakeSearchSlot(db: Kysely<DB>, portalId: string): Promise<boolean> {
  const decision = await tryTakeSlot(
    db,
    `${portalId}:search`,
    'interactive',
    SEARCH_RATE_LIMIT_POLICY,
  );
  return decision.granted;
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
