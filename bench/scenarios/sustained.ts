import { setTimeout as sleep } from 'node:timers/promises';

import { sql } from 'kysely';

import {
  enqueueDealSyncs,
  type DealSyncRequest,
} from '../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { hubspotPaths } from '../../server/src/hubspot/wire/api-versions.ts';
import type { LexiContractStatusValue } from '../../server/src/hubspot/wire/status-property.ts';
import type { RequestLogEntry } from '../../sandbox/types.ts';
import type { BenchEnv } from '../env.ts';
import { renderWindowChart, rollingCounts } from '../chart.ts';
import { median, round, verdict, type BenchRow } from '../report.ts';

export const BATCH_PATH = new RegExp(`^${hubspotPaths.dealsBatchUpdate()}$`);
export const WINDOW_MS = 10_000;
export const CEILING_CALLS = 110;
/** 110 calls per 10 s × 100 deals per call. */
export const CEILING_UPDATES_PER_SEC = 1_100;

const STATUSES: readonly LexiContractStatusValue[] = [
  'in_review',
  'changes_requested',
  'approved',
  'signed',
];

export interface Backlog {
  readonly organizationId: string;
  readonly portalId: string;
  readonly expected: Map<string, LexiContractStatusValue>;
}

export async function pendingRows(env: BenchEnv, portalId: string): Promise<number> {
  const row = await sql<{ n: string }>`
    select count(*)::text as n from hubspot_deal_sync
    where portal_id = ${portalId} and state = 'pending'`.execute(env.db);
  return Number(row.rows[0]?.n ?? 0);
}

export async function waitDrained(
  env: BenchEnv,
  portalIds: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let left = 0;
    for (const p of portalIds) left += await pendingRows(env, p);
    if (left === 0 || Date.now() > deadline) return;
    await sleep(200);
  }
}

export function wrongDeals(env: BenchEnv, backlog: Backlog): number {
  let wrong = 0;
  for (const [dealId, status] of backlog.expected) {
    const deal = env.sandbox.control.getDeal(Number(backlog.portalId), dealId);
    if (deal?.properties.lexicontract_status !== status) wrong += 1;
  }
  return wrong;
}

export function maxInWindow(sortedTimes: readonly number[]): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < sortedTimes.length; end += 1) {
    while ((sortedTimes[end] ?? 0) - (sortedTimes[start] ?? 0) >= WINDOW_MS) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export function portalLog(env: BenchEnv, portalId: string, since: number): RequestLogEntry[] {
  const portal = Number(portalId);
  return env.sandbox.control.requestLog({ since }).filter((e) => e.portalId === portal);
}

export interface SustainedFigures {
  readonly calls: number;
  readonly rate429: number;
  readonly otherNon2xx: number;
  /** Deal updates per second between the first and the last batch answer. */
  readonly updatesPerSec: number;
  /** Median calls in the rolling 10 s over the steady part (after the first window). */
  readonly steadyCallsPerWindow: number;
  readonly maxCallsInWindow: number;
  readonly spanMs: number;
  readonly wrong: number;
  readonly pendingLeft: number;
  readonly svg: string;
}

/**
 * One portal, `changes` status changes on distinct deals committed at once, drained by the
 * real sync worker against the sandbox enforcing 110 / 10 s (batch/update answering after
 * `latencyMs`). Throughput is measured over the whole backlog, first batch answer to last:
 * the pacing spends the budget evenly, so there is no first-window burst in it.
 */
export async function runSustained(
  env: BenchEnv,
  changes: number,
  timeoutMs: number,
): Promise<SustainedFigures> {
  const link = await env.connectPortal();
  // Let the provisioning calls leave the portal's rolling window.
  const idleFrom = Date.now();
  const since = Date.now();
  const backlog = await commitBacklogAfter(env, link, changes, idleFrom + 10_500);
  await waitDrained(env, [backlog.portalId], timeoutMs);
  const log = portalLog(env, backlog.portalId, since);
  const batch = log.filter((e) => e.method === 'POST' && BATCH_PATH.test(e.path));
  const ok = batch.filter((e) => e.status >= 200 && e.status < 300);
  const times = ok.map((e) => e.time).sort((a, b) => a - b);
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? 0;
  const spanMs = Math.max(1, last - first);
  if (process.env.BENCH_DEBUG) {
    const perSecond = new Map<number, number>();
    for (const t of times) {
      const sec = Math.floor((t - first) / 1000);
      perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
    }
    process.stdout.write(`    calls per second: ${JSON.stringify([...perSecond.values()])}\n`);
  }
  // The first answer carries a full batch that went out before the measured span began.
  const updatesPerSec = ((changes - Math.min(100, changes)) / spanMs) * 1000;
  const steady = rollingCounts(times, first + WINDOW_MS, last, WINDOW_MS, 250).map((p) => p.n);
  const svg = renderWindowChart({
    title: `Sustained sync, one portal: ${changes.toLocaleString('en-US')} changes on distinct deals`,
    subtitle: `batch/update calls per rolling 10 s (sandbox enforcing 110 / 10 s); ${String(Math.round(updatesPerSec))} deal updates/s`,
    series: [{ name: `portal ${backlog.portalId} (sync)`, times }],
    ceiling: CEILING_CALLS,
  });
  return {
    calls: batch.length,
    rate429: log.filter((e) => e.status === 429).length,
    otherNon2xx: log.filter((e) => e.status >= 300 && e.status !== 429).length,
    updatesPerSec,
    steadyCallsPerWindow: steady.length > 0 ? median(steady) : Number.NaN,
    maxCallsInWindow: maxInWindow(batch.map((e) => e.time).sort((a, b) => a - b)),
    spanMs,
    wrong: wrongDeals(env, backlog),
    pendingLeft: await pendingRows(env, backlog.portalId),
    svg,
  };
}

async function commitBacklogAfter(
  env: BenchEnv,
  link: { organizationId: string; portalId: string },
  changes: number,
  notBefore: number,
): Promise<Backlog> {
  // Creating the deals in the sandbox takes a while; the commit waits for the idle window.
  const portal = Number(link.portalId);
  const ids: string[] = [];
  for (let i = 0; i < changes; i += 1) {
    ids.push(env.sandbox.control.createDeal(portal, { dealname: `Backlog ${String(i)}` }).id);
    if (i % 5_000 === 4_999) await sleep(0);
  }
  const wait = notBefore - Date.now();
  if (wait > 0) await sleep(wait);
  const expected = new Map<string, LexiContractStatusValue>();
  const requests: DealSyncRequest[] = ids.map((dealId, i) => {
    const status = STATUSES[i % STATUSES.length] ?? 'in_review';
    expected.set(dealId, status);
    return { ...link, dealId, contractId: null, status };
  });
  await env.db.transaction().execute((trx) => enqueueDealSyncs(trx, env.jobs, requests));
  return { ...link, expected };
}

export function sustainedRows(changes: number, f: SustainedFigures, latencyMs: number): BenchRow[] {
  const scenario = `Sustained sync, one portal (${changes.toLocaleString('en-US')} distinct deals)`;
  const pct = (f.updatesPerSec / CEILING_UPDATES_PER_SEC) * 100;
  const correct = f.wrong === 0 && f.pendingLeft === 0;
  return [
    {
      scenario,
      metric: '% of the sustained ceiling over the whole backlog (updates/s ÷ 1,100)',
      value: round(pct, 1),
      unit: '%',
      baseline: `ceiling 110 req / 10 s × 100 = 1,100 updates/s; measured ${String(Math.round(f.updatesPerSec))}/s`,
      target: '≥ 95 %',
      verdict: verdict(pct >= 95 && correct),
      note: `${String(f.calls)} batch calls over ${String(round(f.spanMs / 1000, 1))} s (first → last answer), median ${String(f.steadyCallsPerWindow)} calls per rolling 10 s after the first window, peak ${String(f.maxCallsInWindow)}; sandbox latency ${String(latencyMs)} ms per batch/update`,
    },
    {
      scenario,
      metric: '429s from the sandbox (110 / 10 s)',
      value: f.rate429,
      unit: '',
      baseline: 'ideal 0',
      target: '0',
      verdict: verdict(f.rate429 === 0),
      note: f.otherNon2xx > 0 ? `${String(f.otherNon2xx)} other non-2xx answers` : undefined,
    },
    {
      scenario,
      metric: 'deals not at their last value',
      value: f.wrong + f.pendingLeft,
      unit: '',
      baseline: '0',
      target: '0',
      verdict: verdict(correct),
    },
  ];
}
