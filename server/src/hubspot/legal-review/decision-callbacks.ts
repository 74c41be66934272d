import { sql, type Kysely } from 'kysely';
import { z } from 'zod';

import type { DB } from '../../platform/db/schema.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import type { NegotiationStatus } from '../../core/contracts/status.ts';
import { contractUrl } from '../../core/contracts/contract.ts';
import { contractReviewFacts } from '../../core/contracts/review-facts.ts';
import { REPORT_DECISIONS } from '../wire/report-properties.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest } from '../client/portal-client.ts';
import {
  PortalNeedsReconnectError,
  PortalNotConnectedError,
  type HubSpotTokenDeps,
} from '../client/access-tokens.ts';
import { completeDecisionCallbacksJob } from './decision-job.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * "Wait for legal decision": a HubSpot workflow blocks on a deal until its contract reaches
 * a decision; then the callback is completed with the outputs `decision`, `contract_url`,
 * `decided_by` and `decided_at`. Waiting callbacks live in `hubspot_decision_callbacks`. A
 * status change to a decision marks them `completing` in its own transaction and enqueues
 * the completion job, so no decision is lost.
 *
 * The maximum wait is its own outcome, `decision = timed_out`, that a branch can test: when
 * HubSpot's own expiry of a blocked execution passes, HubSpot just moves the workflow on
 * with no outputs at all. So the execution is blocked for one day longer than the wait the
 * user chose (`BLOCK_GRACE_DAYS`), and at the chosen wait the sweep completes it itself with
 * `timed_out` (callback API), well before HubSpot would.
 */

export const DECISIONS = REPORT_DECISIONS;
export type Decision = (typeof DECISIONS)[number];

/** The `decision` output when the maximum wait passed without one. */
export const TIMED_OUT = 'timed_out';
export type DecisionOutcome = Decision | typeof TIMED_OUT;

/** How much longer HubSpot blocks the execution than our own maximum wait. */
export const BLOCK_GRACE_DAYS = 1;

export function isDecision(status: string): status is Decision {
  return (DECISIONS as readonly string[]).includes(status);
}

/** Input field `expiration_days`: how long the workflow waits (default 7, 1 to 365). */
export const DEFAULT_EXPIRATION_DAYS = 7;
export const MAX_EXPIRATION_DAYS = 365;

export function expirationDays(input: unknown): number {
  const n = typeof input === 'string' ? Number(input) : input;
  if (typeof n !== 'number' || !Number.isFinite(n)) return DEFAULT_EXPIRATION_DAYS;
  return Math.min(MAX_EXPIRATION_DAYS, Math.max(1, Math.round(n)));
}

/**
 * Called inside a contract's status-change transaction: when the new status is a decision,
 * the deal's waiting callbacks take it and a completion job is queued (same commit).
 */
export async function recordDecision(
  trx: Kysely<DB>,
  jobs: JobQueue,
  input: { portalId: string; dealId: string; contractId: string; status: NegotiationStatus },
): Promise<number> {
  if (!isDecision(input.status)) return 0;
  const rows = await trx
    .updateTable('hubspot_decision_callbacks')
    .set({ state: 'completing', decision: input.status, contract_id: input.contractId })
    .where('portal_id', '=', input.portalId)
    .where('deal_id', '=', input.dealId)
    .where('state', '=', 'waiting')
    .where('expires_at', '>', sql<Date>`now()`)
    .returning('callback_id')
    .execute();
  if (rows.length > 0) {
    await jobs.send(
      trx,
      completeDecisionCallbacksJob,
      { portalId: input.portalId },
      { singletonKey: input.portalId },
    );
  }
  return rows.length;
}

/**
 * The outputs of a decided (or timed out) wait. `decided_at` is epoch milliseconds, the
 * value HubSpot's datetime fields hold; `decided_by` is the person's email when the decision
 * was made by a LexiContract user, else the actor (an API key prefix, the HubSpot portal).
 */
export async function decisionOutputFields(
  db: Kysely<DB>,
  publicBaseUrl: string,
  input: { contractId: string | null; decision: string },
): Promise<Record<string, string>> {
  const facts =
    input.contractId === null
      ? undefined
      : (await contractReviewFacts(db, [input.contractId])).get(input.contractId);
  const change =
    input.decision === TIMED_OUT
      ? undefined
      : [...(facts?.history ?? [])].reverse().find((c) => c.to === input.decision);
  return {
    decision: input.decision,
    ...(facts ? { contract_url: contractUrl(publicBaseUrl, facts.contract.id) } : {}),
    ...(change
      ? {
          decided_by: change.actorEmail ?? change.actor ?? '',
          decided_at: String(change.at.getTime()),
        }
      : {}),
    hs_execution_state: 'SUCCESS',
  };
}

/** Completes the portal's decided callbacks through HubSpot's callback API. */
export async function completeDecisionCallbacks(
  deps: { db: Kysely<DB>; tokenDeps: HubSpotTokenDeps; publicBaseUrl: string },
  portalId: string,
  signal: AbortSignal,
): Promise<{ completed: number; paused: boolean }> {
  const rows = await deps.db
    .selectFrom('hubspot_decision_callbacks')
    .select(['callback_id', 'decision', 'contract_id'])
    .where('portal_id', '=', portalId)
    .where('state', '=', 'completing')
    .orderBy('created_at')
    .limit(500)
    .execute();
  let completed = 0;
  for (const row of rows) {
    signal.throwIfAborted();
    try {
      await portalRequest(
        deps.tokenDeps,
        portalId,
        {
          method: 'POST',
          path: hubspotPaths.callbackComplete(row.callback_id),
          json: {
            outputFields: await decisionOutputFields(deps.db, deps.publicBaseUrl, {
              contractId: row.contract_id,
              decision: row.decision ?? TIMED_OUT,
            }),
            typedOutputs: {},
          },
        },
        z.unknown(),
        { signal },
      );
    } catch (error) {
      if (error instanceof PortalNeedsReconnectError || error instanceof PortalNotConnectedError) {
        return { completed, paused: true };
      }
      if (error instanceof HubSpotApiError && !error.retryable) {
        // HubSpot no longer knows the callback (expired, workflow deleted): nothing to retry.
        await deps.db
          .updateTable('hubspot_decision_callbacks')
          .set((eb) => ({
            state: 'expired',
            last_error: error.message.slice(0, 1000),
            attempts: eb('attempts', '+', 1),
          }))
          .where('portal_id', '=', portalId)
          .where('callback_id', '=', row.callback_id)
          .execute();
        continue;
      }
      throw error;
    }
    await deps.db
      .updateTable('hubspot_decision_callbacks')
      .set({ state: 'completed', completed_at: new Date() })
      .where('portal_id', '=', portalId)
      .where('callback_id', '=', row.callback_id)
      .where('state', '=', 'completing')
      .execute();
    completed += 1;
  }
  return { completed, paused: false };
}

/**
 * Waiting callbacks past the maximum wait: completed with `decision = timed_out` (HubSpot
 * still blocks them for `BLOCK_GRACE_DAYS`). One completion job per portal.
 */
export async function expireDecisionCallbacks(db: Kysely<DB>, jobs: JobQueue): Promise<number> {
  const rows = await db
    .updateTable('hubspot_decision_callbacks')
    .set({ state: 'completing', decision: TIMED_OUT })
    .where('state', '=', 'waiting')
    .where('expires_at', '<=', sql<Date>`now()`)
    .returning('portal_id')
    .execute();
  for (const portalId of new Set(rows.map((r) => r.portal_id))) {
    await jobs.send(db, completeDecisionCallbacksJob, { portalId }, { singletonKey: portalId });
  }
  return rows.length;
}
