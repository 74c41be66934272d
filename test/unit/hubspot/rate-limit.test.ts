import { describe, expect, it } from 'vitest';

import {
  DEFAULT_RATE_LIMIT_POLICY as P,
  decideSlot,
  syncPace,
} from '../../../server/src/hubspot/client/portal-rate-limiter.ts';

const span = P.windowMs + P.marginMs;
const reserve = P.totalBudget - P.syncBudget;
const sync = (time: number) => ({ time, lane: 'sync' as const });
const interactive = (time: number) => ({ time, lane: 'interactive' as const });

describe('decideSlot (sliding-window log)', () => {
  it('grants sync slots up to the sync budget, then waits for the right send to leave', () => {
    const now = 100_000;
    const times = Array.from({ length: P.syncBudget - 1 }, (_, i) => sync(now - 5_000 + i));
    expect(decideSlot(now, times, 'sync')).toMatchObject({ granted: true, waitMs: 0 });
    const full = [...times, sync(now - 1)];
    const refused = decideSlot(now, full, 'sync');
    expect(refused.granted).toBe(false);
    // The oldest send (now - 5000) leaves the widened window at now - 5000 + span.
    expect(refused.waitMs).toBe(now - 5_000 + span - now);
  });

  it('keeps a reserve for interactive calls above the sync budget, capped at the total', () => {
    const now = 50_000;
    const syncSends = Array.from({ length: P.syncBudget }, (_, i) => sync(now - 9_000 + i));
    expect(decideSlot(now, syncSends, 'sync').granted).toBe(false);
    expect(decideSlot(now, syncSends, 'interactive').granted).toBe(true);
    const total = [...syncSends, ...Array.from({ length: reserve }, () => interactive(now))];
    const refused = decideSlot(now, total, 'interactive');
    expect(refused.granted).toBe(false);
    expect(refused.waitMs).toBe(now - 9_000 + span - now);
    // The sync lane must wait until `reserve + 1` sends have left: interactive goes first.
    expect(decideSlot(now, total, 'sync').waitMs).toBe(now - 9_000 + reserve + span - now);
  });

  it('counts sends exactly at the window edge, margin included', () => {
    const now = 200_000;
    const atEdge = Array.from({ length: P.syncBudget }, () => sync(now - span + 1));
    expect(decideSlot(now, atEdge, 'sync')).toEqual({ granted: false, waitMs: 1 });
    const justOut = Array.from({ length: P.syncBudget }, () => sync(now - span));
    expect(decideSlot(now, justOut, 'sync').granted).toBe(true);
  });

  it('paces the sync lane (GCRA), not the interactive one', () => {
    const { intervalMs, toleranceMs } = syncPace(P);
    const now = 300_000;
    // First sync send: granted, the next theoretical send one interval later.
    const first = decideSlot(now, [], 'sync');
    expect(first).toEqual({ granted: true, waitMs: 0, syncTatMs: now + intervalMs });
    // Ahead of the pace by more than the tolerance: refused until tat − tolerance.
    const tat = now + toleranceMs + 50;
    const refused = decideSlot(now, [], 'sync', P, undefined, tat);
    expect(refused.granted).toBe(false);
    expect(refused.waitMs).toBe(50);
    expect(decideSlot(now, [], 'interactive', P, undefined, tat).granted).toBe(true);
    // Within the tolerance: granted, and tat moves on from the theoretical time, so a lane
    // that came late catches up instead of losing the time.
    const late = decideSlot(now, [], 'sync', P, undefined, now + toleranceMs - 1);
    expect(late).toEqual({
      granted: true,
      waitMs: 0,
      syncTatMs: now + toleranceMs - 1 + intervalMs,
    });
    // Idle for long: tat restarts from now (no credit piles up beyond the tolerance).
    expect(decideSlot(now, [], 'sync', P, undefined, now - 60_000).syncTatMs).toBe(
      now + intervalMs,
    );
    // Over a whole window the pace keeps sync close to its budget.
    expect(Math.floor((span / 1000) * P.syncPerSecond)).toBeLessThanOrEqual(P.syncBudget);
  });

  it('holds every lane while the portal is paused after a 429', () => {
    expect(decideSlot(1_000, [], 'interactive', P, 3_500)).toEqual({
      granted: false,
      waitMs: 2_500,
    });
    expect(decideSlot(4_000, [], 'interactive', P, 3_500).granted).toBe(true);
  });
});
