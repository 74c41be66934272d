import { z } from 'zod';

/**
 * `negotiation_status` vocabulary (SPEC §6). LexiContract is its source of truth; every CRM
 * mirrors it. The order is the natural order of a review.
 */
export const NEGOTIATION_STATUSES = [
  'pending_review',
  'in_review',
  'changes_requested',
  'approved',
  'signed',
  'rejected',
  'cancelled',
] as const;

export const NegotiationStatusSchema = z.enum(NEGOTIATION_STATUSES);
export type NegotiationStatus = z.infer<typeof NegotiationStatusSchema>;

/** What people read for each status, in LexiContract and in every CRM. */
export const NEGOTIATION_STATUS_LABELS: Readonly<Record<NegotiationStatus, string>> = {
  pending_review: 'Pending review',
  in_review: 'In review',
  changes_requested: 'Changes requested',
  approved: 'Approved',
  signed: 'Signed',
  rejected: 'Rejected',
  cancelled: 'Cancelled',
};

/**
 * THE transition table: the only place that says which status may follow which. Pure data,
 * read by `canTransition` / `allowedNextStatuses`; everything else (API, web pages, HubSpot
 * sync, CLI) goes through those two functions.
 *
 * | from              | allowed next statuses                                   |
 * |-------------------|---------------------------------------------------------|
 * | pending_review    | in_review, rejected, cancelled                          |
 * | in_review         | changes_requested, approved, rejected, cancelled        |
 * | changes_requested | in_review, rejected, cancelled                          |
 * | approved          | signed, changes_requested, cancelled                    |
 * | signed            | — (terminal)                                            |
 * | rejected          | — (terminal)                                            |
 * | cancelled         | — (terminal)                                            |
 *
 * Why these choices:
 * - Legal can reject or the requester can cancel at any point before signature.
 * - `approved` can still go back to `changes_requested` (a late finding) but not straight
 *   back to `in_review`: a reopened approval always says what has to change.
 * - `approved → rejected` is not allowed: an approval is withdrawn by requesting changes,
 *   and a rejection follows a review.
 * - `signed`, `rejected` and `cancelled` are decisions. HubSpot workflows "wait for legal
 *   decision" and branch on them, and sales reps read them on the deal, so a decision never
 *   silently flips back. Reopening a rejected or cancelled review means sending a new
 *   version, which creates a new contract with its own history (SPEC §7.2).
 * - A change to the same status is refused: it records nothing and syncs nothing, and a
 *   caller that sends it is working from a stale view.
 */
const TRANSITIONS: Readonly<Record<NegotiationStatus, readonly NegotiationStatus[]>> = {
  pending_review: ['in_review', 'rejected', 'cancelled'],
  in_review: ['changes_requested', 'approved', 'rejected', 'cancelled'],
  changes_requested: ['in_review', 'rejected', 'cancelled'],
  approved: ['signed', 'changes_requested', 'cancelled'],
  signed: [],
  rejected: [],
  cancelled: [],
};

/** The status every new contract starts in. */
export const INITIAL_NEGOTIATION_STATUS: NegotiationStatus = 'pending_review';

export function canTransition(from: NegotiationStatus, to: NegotiationStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses `from` may move to, in table order; empty for a terminal status. */
export function allowedNextStatuses(from: NegotiationStatus): readonly NegotiationStatus[] {
  return TRANSITIONS[from];
}

/** A terminal status has no way out (signed, rejected, cancelled). */
export function isTerminalStatus(status: NegotiationStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** The statuses a contract is still open in (not terminal): a re-send reuses such a contract. */
export const OPEN_STATUSES: readonly NegotiationStatus[] = NEGOTIATION_STATUSES.filter(
  (status) => !isTerminalStatus(status),
);
