import { sql, type Kysely } from 'kysely';
import { z } from 'zod';

import type { DB } from '../../platform/db/schema.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import type { NegotiationStatus } from '../../core/contracts/status.ts';
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
 * a decision; then the callback is completed with output `decision`. Waiting callbacks live
 * in `hubspot_decision_callbacks`. A status change to a decision marks them `completing` in
 * its own transaction and enqueues the completion job, so no decision is lost.
 */

export const DECISIONS = ['approved', 'signed', 'rejected', 'cancelled'] as const;
export type Decision = (typeof DECISIONS)[number];

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

/** Completes the portal's decided callbacks through HubSpot's callback API. */
export async function completeDecisionCallbacks(
  deps: { db: Kysely<DB>; tokenDeps: HubSpotTokenDeps },
  portalId: string,
  signal: AbortSignal,
): Promise<{ completed: number; paused: boolean }> {
  const rows = await deps.db
    .selectFrom('hubspot_decision_callbacks')
    .select(['callback_id', 'decision'])
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
            outputFields: { decision: row.decision ?? '', hs_execution_state: 'SUCCESS' },
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

/** Waiting callbacks past their expiry: HubSpot has moved the workflow on already. */
export async function expireDecisionCallbacks(db: Kysely<DB>): Promise<number> {
  const result = await db
    .updateTable('hubspot_decision_callbacks')
    .set({ state: 'expired' })
    .where('state', '=', 'waiting')
    .where('expires_at', '<=', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
