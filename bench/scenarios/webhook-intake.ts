import { sql } from 'kysely';

import type { BenchEnv } from '../env.ts';
import { sampleWaits } from '../wait-sampler.ts';
import type { LoadGenerator } from '../load.ts';
import type { LoadSummary } from '../load-protocol.ts';
import { median, round, verdict, type BenchRow } from '../report.ts';

export const WEBHOOK_PATH = '/api/v1/integrations/hubspot/events';

export interface WebhookOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly eventsPerBatch: number;
}

/**
 * Webhook intake (verify v3 + durable dedupe insert + enqueue, acknowledged after commit) at
 * 10 connections with signed 100-event batches, interleaved with Fastify hello world in
 * rounds; figures are medians over rounds, the ratio is the median of per-round ratios.
 * Every acknowledged event must be in the database afterwards.
 */
export async function benchWebhookIntake(
  env: BenchEnv,
  load: LoadGenerator,
  helloUrl: string,
  options: WebhookOptions,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const scenario = 'Webhook intake';
  const { portalId } = await env.connectPortal({ provision: false });
  const before = await countEvents(env);
  const common = { connections: options.connections };
  const helloTarget = { kind: 'hello', path: '/hello' } as const;
  const webhookTarget = {
    kind: 'webhook',
    path: WEBHOOK_PATH,
    publicBaseUrl: env.config.publicBaseUrl,
    clientSecret: env.config.hubspot.clientSecret,
    appId: Number(env.config.hubspot.appId),
    portalId: Number(portalId),
    eventsPerBatch: options.eventsPerBatch,
    dealCount: 5_000,
  } as const;

  log(`  warm-up ${String(options.warmupSeconds)} s each`);
  await load.run(
    { ...common, origin: helloUrl, durationSeconds: options.warmupSeconds },
    helloTarget,
  );
  const warm = await load.run(
    { ...common, origin: env.baseUrl, durationSeconds: options.warmupSeconds },
    webhookTarget,
  );
  const hello: LoadSummary[] = [];
  const hooks: LoadSummary[] = [warm];
  const measured: LoadSummary[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    const h = await load.run(
      { ...common, origin: helloUrl, durationSeconds: options.seconds },
      helloTarget,
    );
    const sampler = process.env.BENCH_DEBUG && round === 1 ? sampleWaits(env.db) : undefined;
    const w = await load.run(
      { ...common, origin: env.baseUrl, durationSeconds: options.seconds },
      webhookTarget,
    );
    if (sampler) log(`    Postgres waits during round 1:\n${await sampler.stop()}`);
    hello.push(h);
    hooks.push(w);
    measured.push(w);
    log(
      `  round ${String(round)}: hello ${String(Math.round(h.reqPerSec))} req/s p99 ${String(h.latencyMs.p99)} ms; ` +
        `webhook ${String(Math.round(w.reqPerSec * options.eventsPerBatch))} events/s ` +
        `p50 ${String(w.latencyMs.p50)} p99 ${String(w.latencyMs.p99)} ms, non-2xx ${String(w.non2xx)}, errors ${String(w.errors + w.timeouts)}`,
    );
  }

  const eventsPerSec = median(measured.map((w) => w.reqPerSec * options.eventsPerBatch));
  const p50 = median(measured.map((w) => w.latencyMs.p50));
  const p99 = median(measured.map((w) => w.latencyMs.p99));
  const helloRps = median(hello.map((h) => h.reqPerSec));
  const helloP50 = median(hello.map((h) => h.latencyMs.p50));
  const helloP99 = median(hello.map((h) => h.latencyMs.p99));
  const ratio = median(measured.map((w, i) => w.reqPerSec / (hello[i]?.reqPerSec ?? Number.NaN)));
  const failures = measured.reduce((n, w) => n + w.non2xx + w.errors + w.timeouts, 0);

  // Durability: every acknowledged event is stored (fresh event ids, so none deduped).
  const acknowledged = hooks.reduce((n, w) => n + w.ok2xx * options.eventsPerBatch, 0);
  const stored = (await countEvents(env)) - before;
  const base = `hello ${Math.round(helloRps).toLocaleString('en-US')} req/s`;
  return [
    {
      scenario,
      metric: `events/s at c=${String(options.connections)} (${String(options.eventsPerBatch)}-event batches)`,
      value: Math.round(eventsPerSec),
      unit: 'ev/s',
      baseline: `${base}; ratio req/s ${round(ratio, 3)}`,
      target: '≥ 5,000 ev/s',
      verdict: verdict(eventsPerSec >= 5_000),
      note: `median of ${String(options.rounds)} interleaved ${String(options.seconds)} s rounds; request rate ${String(Math.round(eventsPerSec / options.eventsPerBatch))} req/s`,
    },
    {
      scenario,
      metric: `p50 latency at c=${String(options.connections)}`,
      value: p50,
      unit: 'ms',
      baseline: `hello p50 ${String(helloP50)} ms`,
      target: '—',
      verdict: 'info',
    },
    {
      scenario,
      metric: `p99 latency at c=${String(options.connections)}`,
      value: p99,
      unit: 'ms',
      baseline: `hello p99 ${String(helloP99)} ms`,
      target: '≤ 50 ms',
      verdict: verdict(p99 <= 50),
    },
    {
      scenario,
      metric: 'non-2xx + errors + timeouts',
      value: failures,
      unit: '',
      baseline: '—',
      target: '0',
      verdict: verdict(failures === 0),
    },
    {
      scenario,
      metric: 'acknowledged events stored',
      value: stored,
      unit: '',
      baseline: `${acknowledged.toLocaleString('en-US')} acknowledged (2xx × batch)`,
      target: '= acknowledged',
      verdict: verdict(stored >= acknowledged),
    },
  ];
}

async function countEvents(env: BenchEnv): Promise<number> {
  const row = await sql<{
    n: string;
  }>`select count(*)::text as n from hubspot_webhook_events`.execute(env.db);
  return Number(row.rows[0]?.n ?? 0);
}
