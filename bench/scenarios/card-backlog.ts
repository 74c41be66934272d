import { setTimeout as sleep } from 'node:timers/promises';

import {
  enqueueDealSyncs,
  type DealSyncRequest,
} from '../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import type { BenchEnv } from '../env.ts';
import type { LoadSummary } from '../load-protocol.ts';
import { round, verdict, type BenchRow } from '../report.ts';
import { BATCH_PATH, pendingRows, portalLog, waitDrained } from './sustained.ts';

export interface CardBacklogOptions {
  /** Status changes in the portal's sync backlog (distinct deals). */
  readonly backlog: number;
  /** Deals whose card is opened (each once cold, then again). */
  readonly cardDeals: number;
  /** Card loads per second during the backlog. */
  readonly cardRate: number;
  readonly syncLatencyMs: number;
  readonly cardLatencyMs: number;
}

const CARD_PATH = '/api/v1/integrations/hubspot/card';

/**
 * The card while its portal works through a sync backlog: the real sync worker drains the
 * backlog (sandbox enforcing 110 / 10 s, batch/update answering after `syncLatencyMs`) while
 * card loads arrive at `cardRate` per second on the same portal, every HubSpot read answering
 * after `cardLatencyMs`: first the first load of each deal, then a repeat load of each, each
 * load a signed GET like hubspot.fetch's, timed in this process from its start to its answer.
 * Interactive calls must get their slots ahead of the sync, and the sync must still use
 * most of what the cards leave.
 */
export async function benchCardUnderBacklog(
  env: BenchEnv,
  options: CardBacklogOptions,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const { control } = env.sandbox;
  const link = await env.connectPortal();
  const connectedAt = Date.now();
  const portal = Number(link.portalId);
  const user = control.listPortals().find((p) => p.portalId === portal)?.users[0];
  const targets = Array.from({ length: options.cardDeals }, (_, i) => {
    const deal = control.createDeal(portal, { dealname: `Card deal ${String(i)}` });
    control.attachNoteWithFiles(portal, deal.id, [
      { name: `MSA ${String(i)}.pdf`, kind: 'pdf', text: 'Master services agreement' },
    ]);
    return {
      portalId: link.portalId,
      dealId: deal.id,
      userId: String(user?.id ?? 1),
      userEmail: user?.email ?? 'user@example.com',
    };
  });
  const requests: DealSyncRequest[] = [];
  for (let i = 0; i < options.backlog; i += 1) {
    const dealId = control.createDeal(portal, { dealname: `Backlog ${String(i)}` }).id;
    requests.push({ ...link, dealId, contractId: null, status: 'in_review' });
  }
  const idle = connectedAt + 10_500 - Date.now();
  if (idle > 0) await sleep(idle);

  control.injectFault({
    path: BATCH_PATH,
    method: 'POST',
    latencyMs: options.syncLatencyMs,
    count: 10_000_000,
  });
  control.injectFault({
    path: '^/(crm|files)/',
    latencyMs: options.cardLatencyMs,
    count: 10_000_000,
  });
  try {
    const since = Date.now();
    await env.db.transaction().execute((trx) => enqueueDealSyncs(trx, env.jobs, requests));
    // Cards arrive once the portal is working through its backlog: the sync has run for more
    // than one window, so the window is in its steady state (full of evenly paced sends).
    // (In the first window of a new backlog the window starts empty, fills after ~8 s and
    // frees nothing before 10 s, so cards loaded then wait for the reserve's 2 slots.)
    await sleep(12_000);
    // Open loop at `cardRate` per second: each load starts on schedule whether or not the
    // previous ones have answered, and is timed from its start to its answer.
    const openLoop = async (): Promise<LoadSummary> => {
      const latencies: number[] = [];
      const codes: Record<string, number> = {};
      let errors = 0;
      const inFlight: Promise<void>[] = [];
      const started = performance.now();
      for (const [i, t] of targets.entries()) {
        const due = started + (i * 1000) / options.cardRate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        inFlight.push(
          (async () => {
            const at = performance.now();
            try {
              const res = await control.signedCardFetch({
                portalId: portal,
                userId: Number(t.userId),
                userEmail: t.userEmail,
                method: 'GET',
                url: `${env.baseUrl}${CARD_PATH}?dealId=${t.dealId}`,
                retry: false,
              });
              codes[String(res.status)] = (codes[String(res.status)] ?? 0) + 1;
              if (res.status !== 200) errors += 1;
            } catch {
              errors += 1;
            }
            latencies.push(performance.now() - at);
          })(),
        );
      }
      await Promise.all(inFlight);
      if (process.env.BENCH_DEBUG) {
        log(`    card latencies in answer order: ${latencies.map((l) => Math.round(l)).join(' ')}`);
      }
      const sorted = latencies.sort((a, b) => a - b);
      const at = (p: number) =>
        Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0);
      const seconds = (performance.now() - started) / 1000;
      return {
        requests: sorted.length,
        durationSeconds: seconds,
        reqPerSec: sorted.length / seconds,
        latencyMs: {
          p50: at(0.5),
          p90: at(0.9),
          p97_5: at(0.975),
          p99: at(0.99),
          max: at(1),
          mean: Math.round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
        },
        ok2xx: sorted.length - errors,
        non2xx: errors,
        errors: 0,
        timeouts: 0,
        statusCodes: codes,
        unitsPer2xx: 1,
      };
    };
    const runStart = Date.now();
    const first = await openLoop();
    const repeat = await openLoop();
    const runEnd = Date.now();
    const pendingAtEnd = await pendingRows(env, link.portalId);
    await waitDrained(env, [link.portalId], 60_000 + options.backlog * 2);

    const logAll = portalLog(env, link.portalId, since);
    const during = logAll.filter((e) => e.time >= runStart && e.time <= runEnd);
    const syncCalls = during.filter((e) => BATCH_PATH.test(e.path)).length;
    const interactiveCalls = during.length - syncCalls;
    const seconds = (runEnd - runStart) / 1000;
    const left = 11 * seconds - interactiveCalls;
    const share = left > 0 ? syncCalls / left : Number.NaN;
    const rate429 = logAll.filter((e) => e.status === 429).length;
    if (process.env.BENCH_DEBUG) {
      for (const e of logAll.filter((x) => x.status === 429)) {
        const before = logAll.filter((x) => x.time > e.time - 10_000 && x.time <= e.time);
        log(
          `    429 on ${e.method} ${e.path} at +${String(e.time - since)} ms; ${String(before.length)} calls logged in the 10 s before (${String(before.filter((x) => BATCH_PATH.test(x.path)).length)} batch)`,
        );
      }
    }
    const failed = (r: LoadSummary) => r.non2xx + r.errors + r.timeouts;
    log(
      `  card under backlog: first loads p50 ${String(first.latencyMs.p50)} p99 ${String(first.latencyMs.p99)} ms, repeat p50 ${String(repeat.latencyMs.p50)} p99 ${String(repeat.latencyMs.p99)} ms; over ${String(round(seconds, 1))} s sync ${String(syncCalls)} calls, cards ${String(interactiveCalls)}, sync share of what was left ${String(round(share * 100, 1))} %, 429s ${String(rate429)}, backlog still pending at the end ${String(pendingAtEnd)}`,
    );
    const scenario = `Card under a sync backlog (${options.backlog.toLocaleString('en-US')} changes, ${String(options.cardRate)} loads/s)`;
    const baseline = `+${String(options.cardLatencyMs)} ms per HubSpot read; ${String(options.cardDeals)} deals`;
    const backlogNote =
      pendingAtEnd > 0
        ? `the backlog still had ${String(pendingAtEnd)} changes pending when the card runs ended`
        : 'WARNING: the backlog drained before the card runs ended';
    return [
      {
        scenario,
        metric: 'repeat card load p99 (1 HubSpot call)',
        value: repeat.latencyMs.p99,
        unit: 'ms',
        baseline,
        target: '≤ 300 ms',
        verdict: verdict(repeat.latencyMs.p99 <= 300 && failed(repeat) === 0),
        note: `p50 ${String(repeat.latencyMs.p50)} ms; non-2xx/errors ${String(failed(repeat))}; ${backlogNote}`,
      },
      {
        scenario,
        metric: 'first card load p99 (deal read beside the notes search, then the file)',
        value: first.latencyMs.p99,
        unit: 'ms',
        baseline,
        target: '≤ 300 ms',
        verdict: verdict(first.latencyMs.p99 <= 300 && failed(first) === 0),
        note: `p50 ${String(first.latencyMs.p50)} ms; non-2xx/errors ${String(failed(first))}; 3 calls in 2 dependent steps at +${String(options.cardLatencyMs)} ms each`,
      },
      {
        scenario,
        metric: '429s',
        value: rate429,
        unit: '',
        baseline: 'ideal 0',
        target: '0',
        verdict: verdict(rate429 === 0),
      },
      {
        scenario,
        metric: 'sync calls ÷ what the cards left of 110 / 10 s',
        value: round(share * 100, 1),
        unit: '%',
        baseline: `${String(syncCalls)} sync + ${String(interactiveCalls)} card calls in ${String(round(seconds, 1))} s`,
        target: '≥ 90 %',
        verdict: verdict(share >= 0.9),
      },
    ];
  } finally {
    control.clearFaults();
  }
}
