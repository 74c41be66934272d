import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { sql } from 'kysely';

import {
  enqueueDealSyncs,
  type DealSyncRequest,
} from '../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { syncPortalDealsJob } from '../../server/src/hubspot/outbox/job-definitions.ts';
import { DEFAULT_RATE_LIMIT_POLICY } from '../../server/src/hubspot/client/portal-rate-limiter.ts';
import type { LexiContractStatusValue } from '../../server/src/hubspot/wire/status-property.ts';
import type { BenchEnv } from '../env.ts';
import { renderWindowChart } from '../chart.ts';
import { round, verdict, type BenchRow } from '../report.ts';
import type { WorkerChildReport, WorkerChildRequest } from '../worker-child.ts';
import {
  BATCH_PATH,
  CEILING_CALLS,
  pendingRows,
  waitDrained,
  wrongDeals,
  type Backlog,
} from './sustained.ts';

export interface ManyPortalsOptions {
  readonly portals: number;
  readonly changesPerPortal: number;
  /** The fairness run's busy portal. */
  readonly busyBacklog: number;
  /** Single changes on quiet portals during the busy backlog. */
  readonly quietChanges: number;
  readonly latencyMs: number;
}

interface WorkerHandle {
  readonly child: ChildProcess;
  mark(): Promise<void>;
  stop(): Promise<WorkerChildReport>;
}

function nextMessage<T>(child: ChildProcess, kind: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown) => {
      const message = raw as { kind: string };
      if (message.kind !== kind) return;
      child.off('message', onMessage);
      resolve(raw as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      reject(new Error(`worker child exited (${String(code)})`));
    });
  });
}

async function startWorkerChild(env: BenchEnv): Promise<WorkerHandle> {
  const child = fork(fileURLToPath(new URL('../worker-child.ts', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const config = Object.fromEntries(
    Object.entries(env.config).filter(([key]) => key !== 'tokenEncryptionKeys'),
  ) as Omit<typeof env.config, 'tokenEncryptionKeys'>;
  const request: WorkerChildRequest = {
    databaseUrl: env.databaseUrl,
    keyringValue: env.keyringValue,
    config,
  };
  const ready = nextMessage(child, 'ready');
  child.send(request);
  await ready;
  return {
    child,
    async mark() {
      const marked = nextMessage(child, 'marked');
      child.send({ kind: 'mark' });
      await marked;
    },
    async stop() {
      const report = nextMessage<{ report: WorkerChildReport }>(child, 'report');
      child.send({ kind: 'stop' });
      return (await report).report;
    },
  };
}

const STATUSES: readonly LexiContractStatusValue[] = ['in_review', 'approved', 'signed'];

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? Number.NaN;
}

/**
 * Many portals on two worker processes (real `startWorkers` in child processes, each with
 * its own pool and queue connection), the sandbox enforcing 110 / 10 s per portal:
 * 1. aggregate: every portal gets its backlog in one transaction; updates/s over all of
 *    them against the sum of the portals' ceilings, and where the workers' time went;
 * 2. fairness: one portal holds a big backlog while single changes arrive on quiet portals;
 *    each quiet change is timed from its commit until the sandbox holds its value.
 */
export async function benchManyPortals(
  env: BenchEnv,
  options: ManyPortalsOptions,
  log: (line: string) => void,
): Promise<{ rows: BenchRow[]; charts: Record<string, string> }> {
  const { control } = env.sandbox;
  const links: { organizationId: string; portalId: string }[] = [];
  for (let i = 0; i < options.portals + 1; i += 1) links.push(await env.connectPortal());
  const connectedAt = Date.now();
  const [busyLink, ...quietLinks] = links;
  if (!busyLink) throw new Error('no portals');

  // Deals for both runs, created while the provisioning calls leave the rolling windows.
  const backlogs: Backlog[] = [];
  const requests: DealSyncRequest[] = [];
  for (const link of quietLinks) {
    const expected = new Map<string, LexiContractStatusValue>();
    for (let i = 0; i < options.changesPerPortal; i += 1) {
      const id = control.createDeal(Number(link.portalId), { dealname: `Many ${String(i)}` }).id;
      const status = STATUSES[i % STATUSES.length] ?? 'in_review';
      expected.set(id, status);
      requests.push({ ...link, dealId: id, contractId: null, status });
    }
    backlogs.push({ ...link, expected });
    await sleep(0);
  }
  const busyExpected = new Map<string, LexiContractStatusValue>();
  const busyRequests: DealSyncRequest[] = [];
  for (let i = 0; i < options.busyBacklog; i += 1) {
    const id = control.createDeal(Number(busyLink.portalId), { dealname: `Busy ${String(i)}` }).id;
    busyExpected.set(id, 'approved');
    busyRequests.push({ ...busyLink, dealId: id, contractId: null, status: 'approved' });
  }
  const quietDeals = quietLinks.map((link) => ({
    link,
    dealId: control.createDeal(Number(link.portalId), { dealname: 'Quiet one' }).id,
  }));
  const idle = connectedAt + 10_500 - Date.now();
  if (idle > 0) await sleep(idle);

  const workers = [await startWorkerChild(env), await startWorkerChild(env)];
  try {
    // 1. Aggregate.
    await Promise.all(workers.map((w) => w.mark()));
    const since = Date.now();
    const sinceDate = new Date(since);
    const benchCpu = process.cpuUsage();
    const committedAt = performance.now();
    await env.db.transaction().execute((trx) => enqueueDealSyncs(trx, env.jobs, requests));
    await waitDrained(
      env,
      backlogs.map((b) => b.portalId),
      120_000 + requests.length,
    );
    const drainedMs = performance.now() - committedAt;
    const benchCpuUsed = process.cpuUsage(benchCpu);
    const benchCpuPct = ((benchCpuUsed.user + benchCpuUsed.system) / 1e3 / drainedMs) * 100;
    const reports = await Promise.all(workers.map((w) => w.stop()));
    const jobStats = await sql<{
      jobs: string;
      pickup_ms: string | null;
      busy_s: string | null;
      span_s: string | null;
    }>`
      select count(*)::text as jobs,
             avg(extract(epoch from started_on - start_after) * 1000)::text as pickup_ms,
             sum(extract(epoch from completed_on - started_on))::text as busy_s,
             extract(epoch from max(completed_on) - min(started_on))::text as span_s
        from pgboss.job
       where name = ${syncPortalDealsJob.name} and created_on >= ${sinceDate}
         and started_on is not null and completed_on is not null`.execute(env.db);
    const js = jobStats.rows[0];
    const jobsRun = Number(js?.jobs ?? 0);
    const pickupMs = Number(js?.pickup_ms ?? 0);
    const slotUse =
      (Number(js?.busy_s ?? 0) /
        Math.max(
          0.001,
          Number(js?.span_s ?? 0) * workers.length * (syncPortalDealsJob.concurrency ?? 1),
        )) *
      100;
    const quietPortals = new Set(quietLinks.map((l) => Number(l.portalId)));
    const logAll = control.requestLog({ since }).filter((e) => quietPortals.has(e.portalId ?? -1));
    const batch = logAll.filter((e) => e.method === 'POST' && BATCH_PATH.test(e.path));
    const times = batch.map((e) => e.time).sort((a, b) => a - b);
    const spanMs = Math.max(1, (times[times.length - 1] ?? 0) - (times[0] ?? 0));
    const total = requests.length;
    const aggregate = ((total - Math.min(100, total)) / spanMs) * 1000;
    const sumCeilings = options.portals * 1_100;
    const wrong = backlogs.reduce((n, b) => n + wrongDeals(env, b), 0);
    const rate429 = logAll.filter((e) => e.status === 429).length;
    const jobsAtOnce = workers.length * (syncPortalDealsJob.concurrency ?? 1);
    const pacePerPortal = DEFAULT_RATE_LIMIT_POLICY.syncPerSecond * 100;
    const workerBound = Math.min(options.portals, jobsAtOnce) * pacePerPortal;
    const cpu = reports.map((r) => `${String(Math.round((r.cpuSeconds / r.wallSeconds) * 100))} %`);
    const syncWait = reports.map((r) => round(r.rateWaitSeconds.sync ?? 0, 1));
    log(
      `  many portals: ${String(jobsRun)} jobs, pickup ${String(Math.round(pickupMs))} ms, slots busy ${String(Math.round(slotUse))} %, bench CPU ${String(Math.round(benchCpuPct))} %; ${String(batch.length)} calls, ${String(Math.round(aggregate))} updates/s over ${String(round(spanMs / 1000, 1))} s (drained in ${String(round(drainedMs / 1000, 1))} s), 429s ${String(rate429)}, wrong ${String(wrong)}; worker CPU ${cpu.join(', ')}; sync rate-slot waits ${syncWait.join(', ')} s`,
    );
    const perPortal = new Map<number, number[]>();
    for (const e of batch) {
      const list = perPortal.get(e.portalId ?? 0) ?? [];
      list.push(e.time);
      perPortal.set(e.portalId ?? 0, list);
    }
    const aggregateSvg = renderWindowChart({
      title: `Many portals: ${String(options.portals)} portals × ${options.changesPerPortal.toLocaleString('en-US')} changes, two worker processes`,
      subtitle: `batch/update calls per rolling 10 s, one line per portal; aggregate ${String(Math.round(aggregate))} updates/s of ${sumCeilings.toLocaleString('en-US')}/s (sum of ceilings)`,
      series: [...perPortal.entries()].map(([portal, t]) => ({
        name: `portal ${String(portal)}`,
        times: t,
      })),
      ceiling: CEILING_CALLS,
      legendLimit: 4,
    });

    // 2. Fairness: a busy portal, single changes on quiet portals meanwhile.
    const fairWorkers = [await startWorkerChild(env), await startWorkerChild(env)];
    workers.splice(0, workers.length, ...fairWorkers);
    const fairSince = Date.now();
    await env.db.transaction().execute((trx) => enqueueDealSyncs(trx, env.jobs, busyRequests));
    await sleep(3_000);
    const latencies: number[] = [];
    const outstanding: { portal: number; dealId: string; status: string; at: number }[] = [];
    const sending = { on: true };
    const poller = (async () => {
      while (sending.on || outstanding.length > 0) {
        const now = performance.now();
        for (let i = outstanding.length - 1; i >= 0; i -= 1) {
          const o = outstanding[i];
          if (!o) continue;
          const deal = control.getDeal(o.portal, o.dealId);
          if (deal?.properties.lexicontract_status === o.status) {
            latencies.push(now - o.at);
            outstanding.splice(i, 1);
          } else if (now - o.at > 30_000) {
            latencies.push(now - o.at);
            outstanding.splice(i, 1);
          }
        }
        await sleep(10);
      }
    })();
    for (let i = 0; i < options.quietChanges; i += 1) {
      const target = quietDeals[i % quietDeals.length];
      if (!target) break;
      const status = STATUSES[Math.floor(i / quietDeals.length) % STATUSES.length] ?? 'signed';
      const at = performance.now();
      await env.db
        .transaction()
        .execute((trx) =>
          enqueueDealSyncs(trx, env.jobs, [
            { ...target.link, dealId: target.dealId, contractId: null, status },
          ]),
        );
      outstanding.push({ portal: Number(target.link.portalId), dealId: target.dealId, status, at });
      await sleep(250);
    }
    sending.on = false;
    await poller;
    const busyPending = await pendingRows(env, busyLink.portalId);
    await waitDrained(env, [busyLink.portalId], 60_000 + options.busyBacklog * 2);
    const busyWrong = wrongDeals(env, { ...busyLink, expected: busyExpected });
    const fairLog = control.requestLog({ since: fairSince });
    const busyTimes = fairLog
      .filter((e) => e.portalId === Number(busyLink.portalId) && BATCH_PATH.test(e.path))
      .map((e) => e.time);
    const quietSeries = new Map<number, number[]>();
    for (const e of fairLog) {
      if (e.portalId === undefined || e.portalId === Number(busyLink.portalId)) continue;
      if (!BATCH_PATH.test(e.path)) continue;
      const list = quietSeries.get(e.portalId) ?? [];
      list.push(e.time);
      quietSeries.set(e.portalId, list);
    }
    const fair429 = fairLog.filter((e) => e.status === 429).length;
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    log(
      `  fairness: quiet change p50 ${String(Math.round(p50))} ms p99 ${String(Math.round(p99))} ms max ${String(Math.round(sorted[sorted.length - 1] ?? 0))} ms over ${String(sorted.length)}; busy portal pending at the end of the quiet run ${String(busyPending)}, wrong ${String(busyWrong)}, 429s ${String(fair429)}`,
    );
    const fairSvg = renderWindowChart({
      title: `Fairness: one portal with a ${options.busyBacklog.toLocaleString('en-US')}-change backlog, ${String(options.quietChanges)} single changes on quiet portals`,
      subtitle: `batch/update calls per rolling 10 s per portal; quiet change to HubSpot p99 ${String(Math.round(p99))} ms`,
      series: [
        { name: `busy portal ${busyLink.portalId}`, times: busyTimes },
        ...[...quietSeries.entries()].map(([portal, t]) => ({
          name: `quiet portal ${String(portal)}`,
          times: t,
        })),
      ],
      ceiling: CEILING_CALLS,
      legendLimit: 3,
    });

    const scenario = `Many portals (${String(options.portals)} × ${options.changesPerPortal.toLocaleString('en-US')} changes, 2 worker processes)`;
    const limitedBy =
      aggregate < 0.9 * sumCeilings
        ? `the workers, not HubSpot, are the limit: ${String(jobsAtOnce)} portal jobs at once (2 processes × ${String(syncPortalDealsJob.concurrency ?? 1)}), each paced at ${String(DEFAULT_RATE_LIMIT_POLICY.syncPerSecond)} calls/s, bound ${Math.round(workerBound).toLocaleString('en-US')} updates/s (${String(round((aggregate / workerBound) * 100, 0))} % of it reached)`
        : 'HubSpot is the limit';
    const rows: BenchRow[] = [
      {
        scenario,
        metric: 'aggregate deal updates/s against the sum of the portals’ ceilings',
        value: round((aggregate / sumCeilings) * 100, 1),
        unit: '%',
        baseline: `sum of ceilings ${sumCeilings.toLocaleString('en-US')}/s; measured ${Math.round(aggregate).toLocaleString('en-US')}/s`,
        target: 'reported',
        verdict: 'info',
        note: `${limitedBy}. Where the time went: ${String(jobsRun)} portal jobs ran (${String(round(jobsRun / options.portals, 1))} per portal), each picked up ${String(Math.round(pickupMs))} ms after it was due on average, job slots busy ${String(Math.round(slotUse))} % of the run; worker CPU ${cpu.join(' / ')} of one core, the bench process (app + sandbox) ${String(Math.round(benchCpuPct))} %; lanes waiting for a paced rate slot ${syncWait.join(' / ')} s; ${String(batch.length)} batch calls in ${String(round(spanMs / 1000, 1))} s`,
      },
      {
        scenario,
        metric: '429s and deals not at their last value',
        value: rate429 + wrong,
        unit: '',
        baseline: '0',
        target: '0',
        verdict: verdict(rate429 === 0 && wrong === 0),
        note: `${String(rate429)} 429s, ${String(wrong)} deals wrong`,
      },
      {
        scenario: `Fairness (one portal with a ${options.busyBacklog.toLocaleString('en-US')}-change backlog)`,
        metric: 'a quiet portal’s single change reaches HubSpot, p99',
        value: Math.round(p99),
        unit: 'ms',
        baseline: `p50 ${String(Math.round(p50))} ms; the batching window alone is 1,000 ms`,
        target: '≤ 3,000 ms',
        verdict: verdict(p99 <= 3_000 && busyWrong === 0 && fair429 === 0),
        note: `${String(sorted.length)} single changes, one every 250 ms, over ${String(quietDeals.length)} quiet portals, timed from commit until the sandbox holds the value; the busy portal still had ${String(busyPending)} pending then, and ended with ${String(busyWrong)} wrong; 429s ${String(fair429)}`,
      },
    ];
    return { rows, charts: { 'many-portals': aggregateSvg, fairness: fairSvg } };
  } finally {
    for (const w of workers) {
      if (w.child.exitCode === null) {
        await w.stop().catch(() => undefined);
      }
    }
  }
}
