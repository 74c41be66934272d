import { describe, expect, it } from 'vitest';

import {
  DEFAULT_RATE_LIMIT_POLICY as P,
  decideSlot,
} from '../../../server/src/hubspot/client/portal-rate-limiter.ts';

const span = P.windowMs + P.marginMs;

describe('decideSlot (sliding-window log)', () => {
  it('grants sync slots up to the sync budget, then waits for the right send to leave', () => {
    const now = 100_000;
    const times = Array.from({ length: P.syncBudget - 1 }, (_, i) => now - 5_000 + i);
    expect(decideSlot(now, times, 'sync')).toEqual({ granted: true, waitMs: 0 });
    const full = [...times, now - 1];
    const refused = decideSlot(now, full, 'sync');
    expect(refused.granted).toBe(false);
    // The oldest send (now - 5000) leaves the widened window at now - 5000 + span.
    expect(refused.waitMs).toBe(now - 5_000 + span - now);
  });

  it('keeps a reserve for interactive calls above the sync budget, capped at the total', () => {
    const now = 50_000;
    const sync = Array.from({ length: P.syncBudget }, (_, i) => now - 9_000 + i);
    expect(decideSlot(now, sync, 'sync').granted).toBe(false);
    expect(decideSlot(now, sync, 'interactive').granted).toBe(true);
    const total = [...sync, ...Array.from({ length: P.totalBudget - P.syncBudget }, () => now)];
    const refused = decideSlot(now, total, 'interactive');
    expect(refused.granted).toBe(false);
    expect(refused.waitMs).toBe(now - 9_000 + span - now);
    // The sync lane must wait until 11 sends have left, i.e. the 11th oldest.
    expect(decideSlot(now, total, 'sync').waitMs).toBe(now - 9_000 + 10 + span - now);
  });

  it('counts sends exactly at the window edge, margin included', () => {
    const now = 200_000;
    const atEdge = Array.from({ length: P.syncBudget }, () => now - span + 1);
    expect(decideSlot(now, atEdge, 'sync')).toEqual({ granted: false, waitMs: 1 });
    const justOut = Array.from({ length: P.syncBudget }, () => now - span);
    expect(decideSlot(now, justOut, 'sync').granted).toBe(true);
  });

  it('holds every lane while the portal is paused after a 429', () => {
    expect(decideSlot(1_000, [], 'interactive', P, 3_500)).toEqual({
      granted: false,
      waitMs: 2_500,
    });
    expect(decideSlot(4_000, [], 'interactive', P, 3_500).granted).toBe(true);
  });
});
