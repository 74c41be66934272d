import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';

import type { DB } from '../../platform/db/schema.ts';
import { findIntegrationByExternalAccount } from '../../core/integrations/organization-integrations.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest } from '../client/portal-client.ts';
import {
  PortalNeedsReconnectError,
  PortalNotConnectedError,
  type HubSpotTokenDeps,
} from '../client/access-tokens.ts';
import {
  acquireRateSlot,
  DEFAULT_RATE_LIMIT_POLICY,
  pausePortal,
} from '../client/portal-rate-limiter.ts';
import { BATCH_INPUT_LIMIT, BatchResponseSchema, type BatchResponse } from '../wire/index.ts';
import { SYNC_BATCHING_WINDOW_SECONDS, SYNC_MAX_DELAY_SECONDS } from './deal-sync-outbox.ts';
import { syncPortalDealsJob } from './job-definitions.ts';
import { reportPropertiesFor, type ReportProperties } from './report-properties.ts';
import { backoffDelayMs } from '../../platform/backoff.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * The outbound half of the status sync: one job per portal drains the deal-sync outbox.
 *
 * - Several lanes per job, each claiming up to 100 pending rows (`for update skip locked`,
 *   oldest first) under a short lease, renewing the lease, taking a slot of the portal's
 *   shared, paced rate budget (10.6 calls/s, interactive calls first: portal-rate-limiter.ts)
 *   and sending ONE `batch/update` at once. Lanes keep several requests in flight.
 * - Coalescing over time: only rows that are ready are claimed, i.e. quiet for the batching
 *   window (no change for `SYNC_BATCHING_WINDOW_SECONDS`) or waiting for longer than
 *   `SYNC_MAX_DELAY_SECONDS` since their first unsent change (`pending_since`, which the
 *   claim restarts). Changes that keep arriving for a deal therefore merge into one write,
 *   and a deal that never stops changing is still written every few seconds. When only
 *   young rows remain, lanes wait for them if that is short, else the job ends and queues
 *   itself for the moment the oldest becomes ready.
 * - A row is marked synced only if its version is still the one sent (compare-and-set); a row
 *   changed meanwhile stays pending and goes out in a later batch, after the older value
 *   landed (the lease keeps anyone else from sending it before that).
 * - A lease lapses on its own: rows claimed by a worker that died are claimed again after
 *   `LEASE_SECONDS`. A send starts only right after a lease renewal and times out well within
 *   the lease, so a late request from a dead or stuck worker cannot overwrite a newer value.
 * - 207 partial failures are handled per deal: a missing deal becomes `gone`, a validation
 *   error `failed`, each with its cause, and neither is retried. A whole-batch 400 is split
 *   in halves until the bad deal is isolated.
 * - 429/5xx/timeouts: bounded backoff inside the job; 429 also pauses the portal (every
 *   process). A portal that needs reconnecting or is disconnected pauses: rows stay pending,
 *   the job ends without retrying, and the sweep re-enqueues it once the portal is connected
 *   again (`resumePortalSync` does it at once).
 */

export const LEASE_SECONDS = 30;
/** Per-attempt HTTP timeout; well below the lease. */
export const SEND_TIMEOUT_MS = 10_000;
export const MAX_SEND_ATTEMPTS = 6;
/** A wait for the rate slot longer than this renews the lease again before the send. */
const RENEW_AFTER_SLOT_WAIT_MS = 5_000;
/** Concurrent batches per job (the paced 10.6 calls/s need ~4 in flight at 250 ms each). */
export const DEFAULT_LANES = 6;
/**
 * A helper job (likely in another process) joins only for a backlog this big: a smaller one
 * is sent by one job within a couple of seconds, and a helper would only take a job slot
 * another portal could use.
 */
const HELPER_MIN_READY_ROWS = 20 * BATCH_INPUT_LIMIT;
/** A job hands over to a fresh one after this long. */
const RUN_BUDGET_MS = 120_000;
/** Lanes wait in the job for rows that become ready within this long; else the job ends. */
const LINGER_MS = SYNC_BATCHING_WINDOW_SECONDS * 1000;
/** How soon a job looks again at rows another job or worker holds under a lease. */
const LEASED_RECHECK_SECONDS = 1;

/** A pending row may be claimed: quiet for the batching window, or waiting long enough. */
const READY = sql<boolean>`(updated_at <= now() - ${`${SYNC_BATCHING_WINDOW_SECONDS} seconds`}::interval
  or pending_since <= now() - ${`${SYNC_MAX_DELAY_SECONDS} seconds`}::interval)`;
/** When a pending row becomes ready. */
const READY_AT = sql<Date>`least(updated_at + ${`${SYNC_BATCHING_WINDOW_SECONDS} seconds`}::interval,
  pending_since + ${`${SYNC_MAX_DELAY_SECONDS} seconds`}::interval)`;

export interface SyncDeps {
  readonly db: Kysely<DB>;
  readonly jobs: JobQueue;
  readonly tokenDeps: HubSpotTokenDeps;
  readonly log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
}

/** Pause before a portal's sync tries again after HubSpot kept failing within one run. */
const RETRY_LATER_SECONDS = 10;

export type SyncRunOutcome = 'drained' | 'paused' | 'handed_over' | 'aborted' | 'retry_later';

export interface SyncRunResult {
  readonly outcome: SyncRunOutcome;
  readonly batches: number;
}

interface ClaimedRow {
  readonly deal_id: string;
  readonly version: number;
  readonly desired_status: string;
  readonly desired_contract_url: string | null;
  readonly contract_id: string | null;
}

interface Claim {
  readonly token: string;
  readonly rows: ClaimedRow[];
}

class StopRun extends Error {
  readonly outcome: SyncRunOutcome;
  constructor(outcome: SyncRunOutcome, message: string) {
    super(message);
    this.outcome = outcome;
  }
}

/**
 * Claims up to `limit` ready rows. Claims of one portal take turns (a transaction-scoped
 * advisory lock): lanes woken at the same moment would otherwise split the ready rows
 * between them (skip locked) and send more, smaller batches than needed.
 */
async function claimRows(db: Kysely<DB>, portalId: string, limit: number): Promise<Claim> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`hubspot-sync-claim:${portalId}`}))`.execute(
      trx,
    );
    return claimRowsLocked(trx, portalId, limit);
  });
}

async function claimRowsLocked(db: Kysely<DB>, portalId: string, limit: number): Promise<Claim> {
  const token = randomUUID();
  const result = await sql<ClaimedRow>`
    update hubspot_deal_sync s
       set claim_token = ${token},
           claimed_until = now() + ${`${LEASE_SECONDS} seconds`}::interval,
           pending_since = now()
      from (
        select portal_id, deal_id from hubspot_deal_sync
         where portal_id = ${portalId} and state = 'pending'
           and (claimed_until is null or claimed_until < now())
           and ${READY}
         order by updated_at, deal_id
         limit ${limit}
         for update skip locked
      ) c
     where s.portal_id = c.portal_id and s.deal_id = c.deal_id
    returning s.deal_id, s.version, s.desired_status, s.desired_contract_url, s.contract_id
  `.execute(db);
  return { token, rows: result.rows };
}

/** Extends the lease of the rows still ours; returns the ids we still hold. */
async function renewLease(
  db: Kysely<DB>,
  portalId: string,
  token: string,
  dealIds: readonly string[],
): Promise<Set<string>> {
  const result = await db
    .updateTable('hubspot_deal_sync')
    .set({ claimed_until: sql<Date>`now() + ${`${LEASE_SECONDS} seconds`}::interval` })
    .where('portal_id', '=', portalId)
    .where('claim_token', '=', token)
    .where('deal_id', 'in', dealIds)
    .returning('deal_id')
    .execute();
  return new Set(result.map((r) => r.deal_id));
}

async function releaseClaim(
  db: Kysely<DB>,
  portalId: string,
  token: string,
  problem?: string,
): Promise<void> {
  await db
    .updateTable('hubspot_deal_sync')
    .set((eb) => ({
      claim_token: null,
      claimed_until: null,
      ...(problem !== undefined
        ? { last_error: problem.slice(0, 1000), attempts: eb('attempts', '+', 1) }
        : {}),
    }))
    .where('portal_id', '=', portalId)
    .where('claim_token', '=', token)
    .execute();
}

async function markSynced(
  db: Kysely<DB>,
  portalId: string,
  token: string,
  rows: readonly ClaimedRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await sql`
    update hubspot_deal_sync s
       set state = 'synced', synced_version = v.version, synced_status = s.desired_status,
           synced_at = now(), attempts = 0, last_error = null, failure_cause = null,
           claim_token = null, claimed_until = null
      from (select unnest(${rows.map((r) => r.deal_id)}::text[]) as deal_id,
                   unnest(${rows.map((r) => r.version)}::bigint[]) as version) v
     where s.portal_id = ${portalId} and s.deal_id = v.deal_id and s.version = v.version
       and s.claim_token = ${token}
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

async function markFailed(
  db: Kysely<DB>,
  portalId: string,
  token: string,
  rows: readonly ClaimedRow[],
  state: 'failed' | 'gone',
  cause: string,
  reason: string,
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    update hubspot_deal_sync s
       set state = ${state}, failure_cause = ${cause}, last_error = ${reason.slice(0, 1000)},
           attempts = s.attempts + 1, claim_token = null, claimed_until = null
      from (select unnest(${rows.map((r) => r.deal_id)}::text[]) as deal_id,
                   unnest(${rows.map((r) => r.version)}::bigint[]) as version) v
     where s.portal_id = ${portalId} and s.deal_id = v.deal_id and s.version = v.version
       and s.claim_token = ${token}
  `.execute(db);
}

/** One input per deal: the status, the link and the report properties ride together. */
function batchBody(rows: readonly ClaimedRow[], report: ReadonlyMap<string, ReportProperties>) {
  return {
    inputs: rows.map((row) => {
      const reported = row.contract_id === null ? undefined : report.get(row.contract_id);
      return {
        id: row.deal_id,
        properties: {
          lexicontract_status: row.desired_status,
          ...(row.desired_contract_url
            ? { lexicontract_contract_url: row.desired_contract_url }
            : {}),
          ...reported,
        },
      };
    }),
  };
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  return error instanceof Error && error.name === 'AbortError';
}

function retryDelayMs(attempt: number, error: HubSpotApiError): number {
  return backoffDelayMs(attempt, { baseMs: 1000, maxMs: 30_000, retryAfterMs: error.retryAfterMs });
}

/**
 * Applies a 200/207 answer to the claimed rows. Returns true when every row was settled
 * (synced, gone or failed), so no row is left under this claim to release.
 */
async function applyBatchResponse(
  deps: SyncDeps,
  portalId: string,
  token: string,
  rows: readonly ClaimedRow[],
  body: BatchResponse,
): Promise<boolean> {
  const byId = new Map(rows.map((r) => [r.deal_id, r]));
  const succeeded = new Set(body.results.map((r) => r.id));
  const handled = new Set<string>();
  for (const error of body.errors ?? []) {
    const ids = [
      ...(error.context?.ids ?? []),
      ...(error.errors ?? []).flatMap((e) => {
        const ctxIds = e.context?.ids;
        return Array.isArray(ctxIds) ? ctxIds.map(String) : [];
      }),
    ].filter((id) => byId.has(id) && !succeeded.has(id) && !handled.has(id));
    if (ids.length === 0) continue;
    for (const id of ids) handled.add(id);
    const affected = ids.map((id) => byId.get(id)).filter((r) => r !== undefined);
    if (error.category === 'OBJECT_NOT_FOUND') {
      await markFailed(deps.db, portalId, token, affected, 'gone', 'deal_not_found', error.message);
    } else {
      await markFailed(
        deps.db,
        portalId,
        token,
        affected,
        'failed',
        error.category.toLowerCase(),
        error.message,
      );
    }
    deps.log.warn(
      { portalId, deals: ids.length, category: error.category },
      'HubSpot refused some deals of a batch',
    );
  }
  const synced = await markSynced(
    deps.db,
    portalId,
    token,
    rows.filter((r) => succeeded.has(r.deal_id)),
  );
  return handled.size === 0 && synced === rows.length;
}

/**
 * The sync lanes of one portal in this process queue here for its rate slot, so only one of
 * them asks the database at a time. Many lanes polling the slot function at once would queue
 * on its per-portal lock, and an interactive call (a card load) asking for a slot would wait
 * behind all of them: its priority in the budget would be lost to lock waits.
 */
const syncSlotQueues = new Map<string, Promise<void>>();

async function acquireSyncSlot(
  db: Kysely<DB>,
  portalId: string,
  signal: AbortSignal,
): Promise<void> {
  const before = syncSlotQueues.get(portalId) ?? Promise.resolve();
  let release = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = before.then(() => done);
  syncSlotQueues.set(portalId, tail);
  try {
    await before;
    await acquireRateSlot(db, portalId, 'sync', { signal });
  } finally {
    release();
    if (syncSlotQueues.get(portalId) === tail) syncSlotQueues.delete(portalId);
  }
}

/**
 * Sends one claimed batch (bounded retries). Returns how many batch calls it made. Throws
 * StopRun when the whole run must stop (portal paused, retries exhausted, aborted).
 */
async function sendBatch(
  deps: SyncDeps,
  portalId: string,
  claim: Claim,
  signal: AbortSignal,
  withReport: boolean,
): Promise<number> {
  let rows = claim.rows;
  let calls = 0;
  // Read once per claim: the values are current as of the claim, like the status. Only for
  // a provisioned portal: HubSpot refuses a whole input naming a property it lacks, so a
  // portal whose setup (which creates them) has not run again yet still gets its status.
  // Started at the claim, so it is mostly done by the time the lane's lease is renewed.
  const reading = withReport
    ? reportPropertiesFor(
        deps.db,
        rows.flatMap((r) => (r.contract_id === null ? [] : [r.contract_id])),
      )
    : Promise.resolve(new Map<string, ReportProperties>());
  // Awaited below; a failure before that must not become an unhandled rejection.
  reading.catch(() => undefined);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const report = await reading;
      // Lease first, then the rate slot, then at once the send: the slot's recorded time is
      // what the limiter counts, so the less lies between it and HubSpot seeing the request,
      // the less skew the window's margin must absorb. A long wait for the slot (a paused
      // portal) renews the lease again, so a send still starts right after a renewal.
      let held = await renewLease(
        deps.db,
        portalId,
        claim.token,
        rows.map((r) => r.deal_id),
      );
      rows = rows.filter((r) => held.has(r.deal_id));
      if (rows.length === 0) return calls;
      const renewedAt = Date.now();
      await acquireSyncSlot(deps.db, portalId, signal);
      if (Date.now() - renewedAt > RENEW_AFTER_SLOT_WAIT_MS) {
        held = await renewLease(
          deps.db,
          portalId,
          claim.token,
          rows.map((r) => r.deal_id),
        );
        rows = rows.filter((r) => held.has(r.deal_id));
        if (rows.length === 0) return calls;
      }
      calls += 1;
      const response = await portalRequest(
        deps.tokenDeps,
        portalId,
        {
          method: 'POST',
          path: hubspotPaths.dealsBatchUpdate(),
          json: batchBody(rows, report),
        },
        BatchResponseSchema,
        { maxAttempts: 1, rateLane: false, signal, timeoutMs: SEND_TIMEOUT_MS },
      );
      deps.log.info(
        { portalId, deals: rows.length, status: response.status },
        'hubspot deal batch sent',
      );
      const settled = await applyBatchResponse(deps, portalId, claim.token, rows, response.body);
      // Rows changed while in flight (or not answered) stay pending: hand them back at once.
      // One round trip fewer per batch in the common case, where every row was marked synced.
      if (!settled || rows.length < claim.rows.length) {
        await releaseClaim(deps.db, portalId, claim.token);
      }
      return calls;
    } catch (error) {
      if (isAbort(error, signal)) {
        await releaseClaim(deps.db, portalId, claim.token);
        throw new StopRun('aborted', 'stopping');
      }
      if (error instanceof PortalNeedsReconnectError || error instanceof PortalNotConnectedError) {
        await releaseClaim(deps.db, portalId, claim.token, error.message);
        throw new StopRun('paused', error.message);
      }
      if (!(error instanceof HubSpotApiError)) {
        await releaseClaim(deps.db, portalId, claim.token, String(error));
        throw error;
      }
      if (error.status === 403) {
        await releaseClaim(deps.db, portalId, claim.token, error.message);
        throw new StopRun('paused', error.message);
      }
      if (error.retryable) {
        if (error.status === 429) {
          await pausePortal(
            deps.db,
            portalId,
            error.retryAfterMs ?? DEFAULT_RATE_LIMIT_POLICY.pauseAfter429Ms,
            '429 on deal batch update',
          );
        }
        if (attempt >= MAX_SEND_ATTEMPTS) {
          await releaseClaim(deps.db, portalId, claim.token, error.message);
          throw new StopRun('retry_later', error.message);
        }
        deps.log.warn({ portalId, status: error.status, attempt }, 'deal batch failed; retrying');
        try {
          await sleep(retryDelayMs(attempt, error), undefined, { signal });
        } catch {
          await releaseClaim(deps.db, portalId, claim.token);
          throw new StopRun('aborted', 'stopping');
        }
        continue;
      }
      // A whole-batch refusal (400 VALIDATION_ERROR and the like): isolate the culprit(s).
      if (rows.length > 1) {
        const half = Math.ceil(rows.length / 2);
        calls += await sendBatch(
          deps,
          portalId,
          { token: claim.token, rows: rows.slice(0, half) },
          signal,
          withReport,
        );
        calls += await sendBatch(
          deps,
          portalId,
          { token: claim.token, rows: rows.slice(half) },
          signal,
          withReport,
        );
        return calls;
      }
      await markFailed(
        deps.db,
        portalId,
        claim.token,
        rows,
        'failed',
        (error.category ?? `http_${error.status}`).toLowerCase(),
        error.hubspotMessage ?? error.message,
      );
      return calls;
    }
  }
}

/** Pending rows nobody holds that are ready to be claimed now. */
async function readyUnclaimed(db: Kysely<DB>, portalId: string): Promise<number> {
  const row = await db
    .selectFrom('hubspot_deal_sync')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('portal_id', '=', portalId)
    .where('state', '=', 'pending')
    .where((eb) =>
      eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', sql<Date>`now()`)]),
    )
    .where(READY)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Milliseconds until the portal's next pending row can be claimed (≤ 0: now), or undefined
 * when none is pending. Rows held under someone's lease count as "look again soon" when
 * `includeLeased` (their sender may finish, or a changed row may stay behind).
 */
async function msUntilNextReady(
  db: Kysely<DB>,
  portalId: string,
  includeLeased: boolean,
): Promise<number | undefined> {
  const result = await sql<{ ms: string | null }>`
    select extract(epoch from min(
             case when claimed_until is not null and claimed_until >= now()
                  then now() + ${`${LEASED_RECHECK_SECONDS} seconds`}::interval
                  else ${READY_AT} end) - now()) * 1000 as ms
      from hubspot_deal_sync
     where portal_id = ${portalId} and state = 'pending'
       and (${includeLeased}::boolean or claimed_until is null or claimed_until < now())
  `.execute(db);
  const ms = result.rows[0]?.ms;
  return ms === null || ms === undefined ? undefined : Number(ms);
}

/** Queues a sync of the portal (e.g. after a reconnect); a queued one is reused. */
export async function resumePortalSync(
  db: Kysely<DB>,
  jobs: JobQueue,
  portalId: string,
  startAfterSeconds = 0,
): Promise<void> {
  await jobs.send(
    db,
    syncPortalDealsJob,
    { portalId },
    { singletonKey: portalId, startAfterSeconds },
  );
}

/** Drains the portal's outbox (one job run). */
export async function syncPortalDeals(
  deps: SyncDeps,
  portalId: string,
  options: { signal: AbortSignal; lanes?: number; helper?: boolean },
): Promise<SyncRunResult> {
  const { signal } = options;
  const integration = await findIntegrationByExternalAccount(deps.db, 'hubspot', portalId);
  if (integration?.status !== 'connected') {
    deps.log.info(
      { portalId, status: integration?.status ?? 'unknown' },
      'deal sync paused: portal not connected',
    );
    return { outcome: 'paused', batches: 0 };
  }
  const lanes = options.lanes ?? DEFAULT_LANES;
  const withReport = integration.provisioning_status === 'done';
  if (!options.helper && (await readyUnclaimed(deps.db, portalId)) > HELPER_MIN_READY_ROWS) {
    // More than this job keeps in flight: let one more job (likely another process) help.
    await deps.jobs.send(
      deps.db,
      syncPortalDealsJob,
      { portalId, helper: true },
      { singletonKey: `${portalId}:helper` },
    );
  }
  const deadline = Date.now() + RUN_BUDGET_MS;
  let batches = 0;
  let stop: StopRun | undefined;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (!stop && failure === undefined && !signal.aborted && Date.now() < deadline) {
      const claim = await claimRows(deps.db, portalId, BATCH_INPUT_LIMIT);
      if (claim.rows.length === 0) {
        // Only young rows (or none) left: wait for them here if they are ready soon.
        const waitMs = await msUntilNextReady(deps.db, portalId, false);
        if (waitMs === undefined || waitMs > LINGER_MS || Date.now() + waitMs >= deadline) return;
        try {
          await sleep(Math.max(waitMs, 100), undefined, { signal });
        } catch {
          return;
        }
        continue;
      }
      try {
        batches += await sendBatch(deps, portalId, claim, signal, withReport);
      } catch (error) {
        if (error instanceof StopRun) stop ??= error;
        else failure ??= error;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, () => lane()));

  if (failure !== undefined) {
    throw failure instanceof Error ? failure : new Error('deal sync failed', { cause: failure });
  }
  if (stop?.outcome === 'paused') {
    deps.log.warn({ portalId, reason: stop.message }, 'deal sync paused');
    return { outcome: 'paused', batches };
  }
  if (stop?.outcome === 'retry_later') {
    // HubSpot kept failing after the in-run retries: come back later through a delayed
    // follow-up job rather than a failed one (with one job queued per portal, pg-boss could
    // not queue this job's own retry beside a follow-up and would fail it for good). The
    // rows stay pending meanwhile, and the sweep re-queues them even if this send is lost.
    deps.log.warn(
      { portalId, reason: stop.message },
      'HubSpot kept failing; deal sync retries later',
    );
    await resumePortalSync(deps.db, deps.jobs, portalId, RETRY_LATER_SECONDS);
    return { outcome: 'retry_later', batches };
  }
  if (options.helper) return { outcome: 'drained', batches };
  if (stop?.outcome === 'aborted' || signal.aborted) {
    // Unsent rows stay pending; another worker picks them up.
    await resumePortalSync(deps.db, deps.jobs, portalId);
    return { outcome: 'aborted', batches };
  }
  const nextMs = await msUntilNextReady(deps.db, portalId, true);
  if (nextMs !== undefined) {
    // Young rows (still changing), rows changed while in flight, or rows held by a
    // helper/dead worker's lease: come back when the first of them can be claimed.
    // (Capped: a row is ready within the maximum delay unless clocks disagree.)
    const delaySeconds = Math.min(Math.max(0, nextMs) / 1000, SYNC_MAX_DELAY_SECONDS);
    await resumePortalSync(deps.db, deps.jobs, portalId, delaySeconds);
    return { outcome: 'handed_over', batches };
  }
  return { outcome: 'drained', batches };
}
