import { setTimeout as sleep } from 'node:timers/promises';

import { sql } from 'kysely';

import { createContract } from '../../server/src/core/contracts/contracts-service.ts';
import {
  enqueueDealSyncs,
  type DealSyncRequest,
} from '../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { hubspotPaths } from '../../server/src/hubspot/wire/api-versions.ts';
import type { LexiContractStatusValue } from '../../server/src/hubspot/wire/status-property.ts';
import type { RequestLogEntry } from '../../sandbox/types.ts';
import type { BenchEnv } from '../env.ts';
import { round, verdict, type BenchRow } from '../report.ts';

export interface SyncOptions {
  readonly changes: number;
  readonly coalescedDeals: number;
  /** Injected sandbox latency on batch/update (in-flight concurrency then matters). */
  readonly latencyMs: number;
  readonly timeoutMs: number;
}

const CONTRACT_POOL = 100;

const BATCH_PATH = new RegExp(`^${hubspotPaths.dealsBatchUpdate()}$`);
const STATUSES: readonly LexiContractStatusValue[] = [
  'pending_review',
  'in_review',
  'changes_requested',
  'approved',
  'signed',
  'rejected',
];
const WINDOW_MS = 10_000;
const CEILING_CALLS = 110;
const DEALS_PER_CALL = 100;
/** 110 requests per 10 s × 100 deals per call. */
const CEILING_UPDATES_PER_SEC = (CEILING_CALLS / (WINDOW_MS / 1000)) * DEALS_PER_CALL;

interface RunFigures {
  wallMs: number;
  /** First batch call sent → last batch answer. */
  sendMs: number;
  batchCalls: number;
  rate429: number;
  otherNon2xx: number;
  maxCallsInWindow: number;
  wrongDeals: number;
  pendingLeft: number;
}

async function pendingRows(env: BenchEnv, portalId: string): Promise<number> {
  const row = await sql<{ n: string }>`
    select count(*)::text as n from hubspot_deal_sync
    where portal_id = ${portalId} and state = 'pending'`.execute(env.db);
  return Number(row.rows[0]?.n ?? 0);
}

/** Most calls in any rolling 10 s window. */
function maxInWindow(times: readonly number[]): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= WINDOW_MS) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

async function runSync(
  env: BenchEnv,
  portalLink: { organizationId: string; portalId: string },
  options: SyncOptions,
  dealCount: number,
  rounds: number,
  pauseBetweenRoundsMs: number,
): Promise<RunFigures> {
  const { control } = env.sandbox;
  const { organizationId, portalId } = portalLink;
  const portal = Number(portalId);
  const dealIds: string[] = [];
  for (let i = 0; i < dealCount; i += 1) {
    dealIds.push(control.createDeal(portal, { dealname: `Sync bench ${String(i)}` }).id);
  }
  // Contracts, so every input carries the report-ready properties beside the status (the
  // same batch): a pool of them, reused across deals (the values are what matters here).
  const contractIds: string[] = [];
  for (let i = 0; i < Math.min(CONTRACT_POOL, dealCount); i += 1) {
    const contract = await createContract(env.db, {
      organizationId,
      title: `Sync bench contract ${String(i)}`,
      externalSource: 'hubspot',
      externalId: dealIds[i] ?? '',
      externalAccountId: portalId,
      createdBySource: 'bench',
      actor: 'bench',
    });
    contractIds.push(contract.id);
  }
  const expected = new Map<string, LexiContractStatusValue>();
  const since = Date.now();
  const started = performance.now();
  const startedWall = Date.now();
  const perRound = Math.ceil(options.changes / rounds);
  let made = 0;
  for (let r = 0; r < rounds && made < options.changes; r += 1) {
    const requests: DealSyncRequest[] = [];
    for (let i = 0; i < perRound && made < options.changes; i += 1, made += 1) {
      const dealId = dealIds[made % dealCount] ?? '';
      const status = STATUSES[(r + i) % STATUSES.length] ?? 'in_review';
      expected.set(dealId, status);
      const contractId = contractIds[made % contractIds.length] ?? null;
      requests.push({ organizationId, portalId, dealId, contractId, status });
    }
    // Bulk transactions of ≤ 1,000 changes each: the outbox call the domain path makes.
    for (let i = 0; i < requests.length; i += 1_000) {
      const chunk = requests.slice(i, i + 1_000);
      await env.db.transaction().execute((trx) => enqueueDealSyncs(trx, env.jobs, chunk));
    }
    if (pauseBetweenRoundsMs > 0 && r < rounds - 1) await sleep(pauseBetweenRoundsMs);
  }

  const deadline = Date.now() + options.timeoutMs;
  while ((await pendingRows(env, portalId)) > 0 && Date.now() < deadline) await sleep(100);
  const elapsedMs = performance.now() - started;
  const log: RequestLogEntry[] = control.requestLog({ since }).filter((e) => e.portalId === portal);
  const batch = log.filter((e) => e.method === 'POST' && BATCH_PATH.test(e.path));
  const batchOk = batch.filter((e) => e.status >= 200 && e.status < 300);
  const lastBatch = Math.max(...batchOk.map((e) => e.time), startedWall);
  // The first call went out one sandbox latency before its answer was logged.
  const firstBatch = Math.min(...batch.map((e) => e.time - options.latencyMs), lastBatch);
  if (process.env.BENCH_DEBUG) {
    const perSecond = new Map<number, number>();
    for (const e of batch) {
      const sec = Math.floor((e.time - startedWall) / 1000);
      perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
    }
    process.stdout.write(
      `    calls per second since first commit: ${JSON.stringify(Object.fromEntries(perSecond))}\n`,
    );
  }
  let wrongDeals = 0;
  for (const [dealId, status] of expected) {
    const deal = control.getDeal(portal, dealId);
    if (deal?.properties.lexicontract_status !== status) wrongDeals += 1;
    // The report properties rode along: every deal has a submission time.
    else if (!deal.properties.lexicontract_submitted_at) wrongDeals += 1;
  }
  return {
    wallMs: batchOk.length > 0 ? lastBatch - startedWall : elapsedMs,
    sendMs: batchOk.length > 0 ? lastBatch - firstBatch : elapsedMs,
    batchCalls: batch.length,
    rate429: log.filter((e) => e.status === 429).length,
    otherNon2xx: log.filter((e) => e.status >= 300 && e.status !== 429).length,
    maxCallsInWindow: maxInWindow(batch.map((e) => e.time).sort((a, b) => a - b)),
    wrongDeals,
    pendingLeft: await pendingRows(env, portalId),
  };
}

/**
 * Outbound sync with the real sync worker running: changes are written through the deal-sync
 * outbox (`enqueueDealSyncs` in bulk transactions, the same call `changeContractStatus`'s
 * HubSpot hooks make per change), the sandbox enforces 110 / 10 s per portal and answers
 * batch/update after `latencyMs`. Calls and 429s come from the sandbox's request log.
 */
export async function benchSync(
  env: BenchEnv,
  options: SyncOptions,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const { control } = env.sandbox;
  control.injectFault({
    path: BATCH_PATH,
    method: 'POST',
    latencyMs: options.latencyMs,
    count: 1_000_000,
  });
  try {
    const scenario = 'Sync (distinct deals)';
    // Connecting provisions the portal (a few HubSpot calls that count against its window):
    // let those leave the rolling window so each run starts on an idle portal.
    const portalA = await env.connectPortal();
    const portalB = await env.connectPortal();
    await sleep(10_500);
    const distinct = await runSync(env, portalA, options, options.changes, 1, 0);
    const idealCalls = Math.ceil(options.changes / DEALS_PER_CALL);
    const idealSustainedMs = (idealCalls / CEILING_CALLS) * WINDOW_MS;
    // Throughput of the sender: from its first call, so the deliberate batching window (a
    // latency, reported in the wall-time row) is not counted as slowness.
    const updatesPerSec = options.changes / (distinct.sendMs / 1000);
    const pctCeiling = (updatesPerSec / CEILING_UPDATES_PER_SEC) * 100;
    log(
      `  distinct: ${String(distinct.batchCalls)} calls, ${String(distinct.rate429)} 429s, ${String(Math.round(distinct.wallMs))} ms, peak ${String(distinct.maxCallsInWindow)} calls/10 s, wrong ${String(distinct.wrongDeals)}`,
    );
    const coalesced = await runSync(env, portalB, options, options.coalescedDeals, 20, 250);
    const idealCoalesced = Math.ceil(options.coalescedDeals / DEALS_PER_CALL);
    log(
      `  coalesced: ${String(coalesced.batchCalls)} calls, ${String(coalesced.rate429)} 429s, ${String(Math.round(coalesced.wallMs))} ms, wrong ${String(coalesced.wrongDeals)}`,
    );
    const scenario2 = `Sync (${String(options.changes)} changes / ${String(options.coalescedDeals)} deals)`;
    const idealNote = `ideal: ${String(idealCalls)} calls; ceiling 110 req/10 s × 100 = 1,100 updates/s (${String(round(idealSustainedMs / 1000, 1))} s sustained)`;
    return [
      {
        scenario,
        metric: `wall time, ${options.changes.toLocaleString('en-US')} changes (first commit → last batch answer)`,
        value: round(distinct.wallMs / 1000, 2),
        unit: 's',
        baseline: `${String(round(idealSustainedMs / 1000, 1))} s at the sustained ceiling`,
        target: '—',
        verdict: 'info',
        note: `sandbox latency ${String(options.latencyMs)} ms per batch/update; includes the 1 s batching window; peak ${String(distinct.maxCallsInWindow)} calls in a rolling 10 s`,
      },
      {
        scenario,
        metric: 'batch/update calls',
        value: distinct.batchCalls,
        unit: '',
        baseline: `ideal ${String(idealCalls)}`,
        target: `exactly ${String(idealCalls)}`,
        verdict: verdict(distinct.batchCalls === idealCalls),
      },
      {
        scenario,
        metric: '429s from the sandbox (110 / 10 s)',
        value: distinct.rate429,
        unit: '',
        baseline: 'ideal 0',
        target: '0',
        verdict: verdict(distinct.rate429 === 0),
        note:
          distinct.otherNon2xx > 0
            ? `${String(distinct.otherNon2xx)} other non-2xx answers`
            : undefined,
      },
      {
        scenario,
        metric: '% of rate-limit ceiling (updates/s ÷ 1,100)',
        value: round(pctCeiling, 1),
        unit: '%',
        baseline: idealNote,
        target: '≥ 90 %',
        verdict: verdict(pctCeiling >= 90),
        note: `${String(Math.round(updatesPerSec))} updates/s from the first batch call to the last answer (${String(round(distinct.sendMs / 1000, 2))} s; the sync is paced at 10.6 calls/s, no first-window burst); every deal at its value: ${distinct.wrongDeals === 0 && distinct.pendingLeft === 0 ? 'yes' : `NO (${String(distinct.wrongDeals)} wrong, ${String(distinct.pendingLeft)} pending)`}`,
      },
      {
        scenario: scenario2,
        metric: 'batch/update calls',
        value: coalesced.batchCalls,
        unit: '',
        baseline: `ideal ${String(idealCoalesced)} (coalesced to ${String(options.coalescedDeals)} deals)`,
        target: '≤ 15',
        verdict: verdict(coalesced.batchCalls <= 15),
        note: `changes in 20 bulk transactions 250 ms apart (~5 s burst); wall ${String(round(coalesced.wallMs / 1000, 2))} s; 429s ${String(coalesced.rate429)}`,
      },
      {
        scenario: scenario2,
        metric: 'deals not at their last value',
        value: coalesced.wrongDeals + coalesced.pendingLeft,
        unit: '',
        baseline: '0',
        target: '0 (every deal at last value)',
        verdict: verdict(coalesced.wrongDeals === 0 && coalesced.pendingLeft === 0),
      },
    ];
  } finally {
    control.clearFaults();
  }
}
