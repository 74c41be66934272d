import { describe, expect, it } from 'vitest';

import {
  allowedNextStatuses,
  canTransition,
  isTerminalStatus,
  NEGOTIATION_STATUSES,
  NegotiationStatusSchema,
  type NegotiationStatus,
} from '../../../server/src/core/contracts/status.ts';

/**
 * The transition table written out by hand: the test does not read the table it checks.
 * Every pair of the 7×7 grid not listed here must be refused.
 */
const EXPECTED_ALLOWED: readonly (readonly [NegotiationStatus, NegotiationStatus])[] = [
  ['pending_review', 'in_review'],
  ['pending_review', 'rejected'],
  ['pending_review', 'cancelled'],
  ['in_review', 'changes_requested'],
  ['in_review', 'approved'],
  ['in_review', 'rejected'],
  ['in_review', 'cancelled'],
  ['changes_requested', 'in_review'],
  ['changes_requested', 'rejected'],
  ['changes_requested', 'cancelled'],
  ['approved', 'signed'],
  ['approved', 'changes_requested'],
  ['approved', 'cancelled'],
];

const SPEC_STATUSES = [
  'pending_review',
  'in_review',
  'changes_requested',
  'approved',
  'signed',
  'rejected',
  'cancelled',
];

const allowedKeys = new Set(EXPECTED_ALLOWED.map(([from, to]) => `${from}->${to}`));
const grid = SPEC_STATUSES.flatMap((from) =>
  SPEC_STATUSES.map((to) => ({
    from: from as NegotiationStatus,
    to: to as NegotiationStatus,
    allowed: allowedKeys.has(`${from}->${to}`),
  })),
);

describe('negotiation status vocabulary', () => {
  it('is exactly the seven statuses of SPEC §6', () => {
    expect([...NEGOTIATION_STATUSES]).toEqual(SPEC_STATUSES);
    for (const status of SPEC_STATUSES) expect(NegotiationStatusSchema.parse(status)).toBe(status);
    expect(NegotiationStatusSchema.safeParse('importing').success).toBe(false);
    expect(NegotiationStatusSchema.safeParse('APPROVED').success).toBe(false);
  });
});

describe('transition table', () => {
  it('covers the full 7×7 grid: 13 allowed and 36 refused pairs', () => {
    expect(grid).toHaveLength(49);
    expect(grid.filter((p) => p.allowed)).toHaveLength(13);
    expect(grid.filter((p) => !p.allowed)).toHaveLength(36);
  });

  it.each(grid.filter((p) => p.allowed))('allows $from → $to', ({ from, to }) => {
    expect(canTransition(from, to)).toBe(true);
    expect(allowedNextStatuses(from)).toContain(to);
  });

  it.each(grid.filter((p) => !p.allowed))('refuses $from → $to', ({ from, to }) => {
    expect(canTransition(from, to)).toBe(false);
    expect(allowedNextStatuses(from)).not.toContain(to);
  });

  it('refuses every same-status change', () => {
    for (const status of SPEC_STATUSES) {
      expect(canTransition(status as NegotiationStatus, status as NegotiationStatus)).toBe(false);
    }
  });

  it('treats exactly signed, rejected and cancelled as terminal', () => {
    const terminal = SPEC_STATUSES.filter((s) => isTerminalStatus(s as NegotiationStatus));
    expect(terminal).toEqual(['signed', 'rejected', 'cancelled']);
    for (const status of terminal)
      expect(allowedNextStatuses(status as NegotiationStatus)).toEqual([]);
  });

  it('lists allowed next statuses exactly as expected for every status', () => {
    for (const from of SPEC_STATUSES) {
      const expected = EXPECTED_ALLOWED.filter(([f]) => f === from).map(([, to]) => to);
      expect([...allowedNextStatuses(from as NegotiationStatus)].sort()).toEqual(
        [...expected].sort(),
      );
    }
  });
});
