import type { Kysely } from 'kysely';
import { z } from 'zod';

import type { DB } from '../../platform/db/schema.ts';
import {
  contractReviewFacts,
  type ContractReviewFacts,
} from '../../core/contracts/review-facts.ts';
import {
  REPORT_DECISIONS,
  REPORT_PRIORITIES,
  REPORT_PROPERTY_NAMES as P,
  type ReportDecision,
  type ReportPropertyName,
} from '../wire/report-properties.ts';

/**
 * The values of the report-ready deal properties for a contract, computed when its deal's
 * outbox row is SENT (not when it was queued), so every batch carries the current values
 * and a row queued by any path (status change, import, reconnect re-sync) gets them too.
 * Every property is always sent: an empty string clears a value that no longer holds
 * (e.g. a decision withdrawn by "changes requested").
 *
 * - `decided_at` is when the contract entered its current decided run: `approved → signed`
 *   keeps the approval's time and reviewer, because legal was done at the approval and the
 *   signature is the counterparty's; `approved → changes_requested` clears the decision.
 * - `days_in_review` = (`decided_at` − `submitted_at`) in days, rounded to one decimal, and
 *   EMPTY while the contract is open. Why not "days so far" while open: the value would only
 *   be as fresh as the last status change (nothing rewrites deals daily), so a report's
 *   average would silently mix stale partial durations with finished ones. HubSpot's
 *   average ignores empty values, so "average days in legal" is over decided reviews only,
 *   which is the figure people mean; open reviews are counted by `open_contracts`.
 */
export type ReportProperties = Record<ReportPropertyName, string>;

const DAY_MS = 86_400_000;

const SnapshotPriority = z.object({
  review: z.object({ priority: z.enum(REPORT_PRIORITIES) }).loose(),
});

function isDecision(status: string): status is ReportDecision {
  return (REPORT_DECISIONS as readonly string[]).includes(status);
}

export function reportPropertiesOf(facts: ContractReviewFacts): ReportProperties {
  const { contract, history } = facts;
  let start: (typeof history)[number] | undefined;
  if (isDecision(contract.negotiationStatus)) {
    for (let i = history.length - 1; i >= 0; i -= 1) {
      const change = history[i];
      if (!change || !isDecision(change.to)) break;
      start = change;
    }
  }
  const submittedAt = contract.createdAt;
  const days =
    start === undefined
      ? ''
      : String(Math.round(((start.at.getTime() - submittedAt.getTime()) / DAY_MS) * 10) / 10);
  const priority = SnapshotPriority.safeParse(contract.sourceSnapshot);
  return {
    [P.submittedAt]: submittedAt.toISOString(),
    [P.decidedAt]: start ? start.at.toISOString() : '',
    [P.decision]: start ? contract.negotiationStatus : '',
    [P.reviewer]: start ? (start.actorEmail ?? start.actor ?? '') : '',
    [P.daysInReview]: days,
    [P.openContracts]: String(facts.openContractsOnRecord),
    [P.priority]: priority.success ? priority.data.review.priority : '',
  };
}

/** The report properties of each contract (by id) that still exists. */
export async function reportPropertiesFor(
  db: Kysely<DB>,
  contractIds: readonly string[],
): Promise<Map<string, ReportProperties>> {
  const facts = await contractReviewFacts(db, contractIds);
  return new Map([...facts].map(([id, f]) => [id, reportPropertiesOf(f)]));
}
