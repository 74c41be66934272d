import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import pino from 'pino';

import { startWorkers } from '../server/src/worker.ts';
import { checkpoint, startBenchEnv, type BenchEnv } from './env.ts';
import { startHelloServer } from './hello.ts';
import { LoadGenerator } from './load.ts';
import { formatTable, machineInfo, notAvailable, type BenchRow } from './report.ts';
import { benchImport } from './scenarios/import.ts';
import { benchCard, benchWorkflowAction } from './scenarios/interactive.ts';
import { benchNamePattern } from './scenarios/name-pattern.ts';
import { benchSync } from './scenarios/sync.ts';
import { BATCH_PATH, runSustained, sustainedRows } from './scenarios/sustained.ts';
import { benchManyPortals } from './scenarios/many-portals.ts';
import { benchCardUnderBacklog } from './scenarios/card-backlog.ts';
import { benchWebhookIntake } from './scenarios/webhook-intake.ts';

/**
 * `npm run bench` (small, fast defaults) / `npm run bench -- --full` (full sizes, more and
 * longer rounds): measures the SPEC §9 bars against the real app on real Postgres and the
 * HubSpot sandbox, prints a table with each figure beside its same-run baseline and target,
 * and writes it as JSON to bench-results/<timestamp>.json and bench-results/latest.json.
 * `--only=sync,sustained,webhook,workflow,card,pattern,import` runs a subset; `--docs` also
 * writes the SVG charts to docs/bench/ (committed; the README shows them), otherwise only
 * bench-results/ (ignored by git) is written. `BENCH_SUSTAINED_CHANGES=N` sizes the sustained
 * run (default 30,000, `--full` 100,000); `BENCH_DEBUG=1` prints per-second call counts.
 *
 * Placement: the app, the sandbox, the hello-world baseline and (for the sync run) the
 * workers live in this process; the load generator is a child process (autocannon, with a
 * fresh HMAC per request); each import runs in its own child process so its RSS is its own.
 */

const SCENARIOS = [
  'sync',
  'sustained',
  'cardbacklog',
  'portals',
  'webhook',
  'workflow',
  'card',
  'pattern',
  'import',
] as const;
type Scenario = (typeof SCENARIOS)[number];

function parseArgs(argv: readonly string[]): {
  full: boolean;
  docs: boolean;
  only: Set<Scenario>;
} {
  const full = argv.includes('--full');
  const docs = argv.includes('--docs');
  const onlyArg = argv.find((a) => a.startsWith('--only='));
  const only = new Set<Scenario>(
    onlyArg
      ? onlyArg
          .slice('--only='.length)
          .split(',')
          .filter((s): s is Scenario => (SCENARIOS as readonly string[]).includes(s))
      : SCENARIOS,
  );
  return { full, docs, only };
}

/** SVG charts go beside the JSON; with `--docs` also to docs/bench/ (committed, shown in the README). */
async function writeChart(name: string, svg: string, docs: boolean): Promise<void> {
  const dir = path.resolve('bench-results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${name}.svg`), svg);
  if (docs) {
    const docsDir = path.resolve('docs', 'bench');
    await mkdir(docsDir, { recursive: true });
    await writeFile(path.join(docsDir, `${name}.svg`), svg);
  }
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Before a latency scenario: the sandbox forgets the earlier scenarios' portals and deals
 * (well over 100,000 deals by then). HubSpot keeps its data elsewhere, but the sandbox shares
 * the app's process here, so that data would be the app's heap, and the major collections
 * of it would land in the measured tail; a full collection (`--expose-gc`) frees it now.
 * Then a CHECKPOINT writes out what those scenarios left dirty, so Postgres does not flush
 * their writes inside the measurement (without superuser rights it is skipped).
 */
async function settle(env: BenchEnv): Promise<void> {
  await env.sandbox.startOver();
  (globalThis as { gc?: () => void }).gc?.();
  await checkpoint(env);
}

async function guarded(
  name: string,
  fallback: BenchRow[],
  run: () => Promise<BenchRow[]>,
): Promise<BenchRow[]> {
  try {
    return await run();
  } catch (error) {
    const why = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    out(`  ${name} failed: ${error instanceof Error ? (error.stack ?? why) : why}`);
    return fallback.map((r) => ({ ...r, note: `scenario failed: ${why.slice(0, 300)}` }));
  }
}

async function main(): Promise<void> {
  const { full, docs, only } = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  const sizes = full ? [50, 200, 600] : [50, 200];
  out(`LexiContract bench (${full ? 'full' : 'default'} size) — ${new Date().toISOString()}`);
  out(
    `Machine: ${machine.cpu}, ${String(machine.cores)} cores, ${String(machine.memoryGiB)} GiB, Node ${machine.node}, ${machine.platform}, load average ${String(machine.loadAverage1m)} at start`,
  );

  const env: BenchEnv = await startBenchEnv({ importMaxFileBytes: 700 * 1024 * 1024 });
  out(`Postgres: ${env.postgres}`);
  const hello = await startHelloServer();
  const load = new LoadGenerator();
  const rows: BenchRow[] = [];
  const started = Date.now();
  try {
    // 1. Sync first, with the workers of this process running; they are stopped afterwards
    //    so the HTTP figures measure the web path alone (verify + store + enqueue).
    const syncLatencyMs = 150;
    let workerQueue: ReturnType<BenchEnv['newJobQueue']> | undefined;
    if (only.has('sync') || only.has('sustained') || only.has('cardbacklog')) {
      workerQueue = env.newJobQueue(true);
      await startWorkers({
        config: env.config,
        db: env.db,
        jobs: workerQueue,
        log: pino({ level: 'silent' }),
      });
    }
    if (only.has('sync')) {
      out('Sync…');
      rows.push(
        ...(await guarded(
          'sync',
          [
            notAvailable('Sync (distinct deals)', 'batch/update calls', 'exactly 100', ''),
            notAvailable('Sync (distinct deals)', '429s', '0', ''),
            notAvailable('Sync (distinct deals)', '% of ceiling', '≥ 90 %', ''),
            notAvailable('Sync (10,000 changes / 500 deals)', 'batch/update calls', '≤ 15', ''),
          ],
          () =>
            benchSync(
              env,
              {
                changes: 10_000,
                coalescedDeals: 500,
                latencyMs: syncLatencyMs,
                timeoutMs: 120_000,
              },
              out,
            ),
        )),
      );
    }
    if (only.has('sustained')) {
      const changes = Number(process.env.BENCH_SUSTAINED_CHANGES ?? (full ? 100_000 : 30_000));
      out(`Sustained sync (${changes.toLocaleString('en-US')} changes, one portal)…`);
      const scenario = `Sustained sync, one portal (${changes.toLocaleString('en-US')} distinct deals)`;
      rows.push(
        ...(await guarded(
          'sustained',
          [
            notAvailable(
              scenario,
              '% of the sustained ceiling over the whole backlog',
              '≥ 95 %',
              '',
            ),
            notAvailable(scenario, '429s from the sandbox (110 / 10 s)', '0', ''),
          ],
          async () => {
            env.sandbox.control.injectFault({
              path: BATCH_PATH,
              method: 'POST',
              latencyMs: syncLatencyMs,
              count: 1_000_000,
            });
            try {
              const figures = await runSustained(env, changes, 60_000 + changes * 2);
              out(
                `  sustained: ${String(figures.calls)} calls, ${String(figures.rate429)} 429s, ${String(Math.round(figures.updatesPerSec))} updates/s over ${String(Math.round(figures.spanMs / 1000))} s, median ${String(figures.steadyCallsPerWindow)} calls per 10 s, wrong ${String(figures.wrong)}`,
              );
              await writeChart('sustained', figures.svg, docs);
              return sustainedRows(changes, figures, syncLatencyMs);
            } finally {
              env.sandbox.control.clearFaults();
            }
          },
        )),
      );
    }
    if (only.has('cardbacklog')) {
      const options = full
        ? { backlog: 60_000, cardDeals: 40, cardRate: 2 }
        : { backlog: 35_000, cardDeals: 20, cardRate: 2 };
      out(
        `Card under a sync backlog (${String(options.backlog)} changes, ${String(options.cardRate)} card loads/s)…`,
      );
      rows.push(
        ...(await guarded(
          'cardbacklog',
          [
            notAvailable('Card under a sync backlog', 'repeat card load p99', '≤ 300 ms', ''),
            notAvailable(
              'Card under a sync backlog',
              'sync calls ÷ what the cards left',
              '≥ 90 %',
              '',
            ),
          ],
          () => benchCardUnderBacklog(env, { ...options, syncLatencyMs, cardLatencyMs: 100 }, out),
        )),
      );
    }
    await workerQueue?.stop(10_000);
    if (only.has('portals')) {
      const options = full
        ? { portals: 50, changesPerPortal: 2_000, busyBacklog: 100_000, quietChanges: 100 }
        : { portals: 50, changesPerPortal: 1_000, busyBacklog: 20_000, quietChanges: 40 };
      out(
        `Many portals (${String(options.portals)} × ${String(options.changesPerPortal)}, two worker processes; fairness with a ${String(options.busyBacklog)}-change backlog)…`,
      );
      rows.push(
        ...(await guarded(
          'portals',
          [
            notAvailable(
              'Many portals',
              'aggregate updates/s vs the sum of ceilings',
              'reported',
              '',
            ),
            notAvailable(
              'Fairness',
              'a quiet portal’s single change reaches HubSpot, p99',
              '≤ 3,000 ms',
              '',
            ),
          ],
          async () => {
            env.sandbox.control.injectFault({
              path: BATCH_PATH,
              method: 'POST',
              latencyMs: syncLatencyMs,
              count: 10_000_000,
            });
            try {
              const result = await benchManyPortals(
                env,
                { ...options, latencyMs: syncLatencyMs },
                out,
              );
              for (const [name, svg] of Object.entries(result.charts)) {
                await writeChart(name, svg, docs);
              }
              return result.rows;
            } finally {
              env.sandbox.control.clearFaults();
            }
          },
        )),
      );
    }
    if (only.has('webhook')) {
      out('Webhook intake…');
      rows.push(
        ...(await guarded(
          'webhook',
          [
            notAvailable('Webhook intake', 'events/s at c=10', '≥ 5,000 ev/s', ''),
            notAvailable('Webhook intake', 'p99 at c=10', '≤ 50 ms', ''),
          ],
          () =>
            benchWebhookIntake(
              env,
              load,
              hello.url,
              full
                ? { rounds: 5, seconds: 10, warmupSeconds: 3, connections: 10, eventsPerBatch: 100 }
                : { rounds: 3, seconds: 5, warmupSeconds: 2, connections: 10, eventsPerBatch: 100 },
              out,
            ),
        )),
      );
    }
    const interactive = full
      ? { connections: 20, workflowSeconds: 10, cardRequests: 2_000, cardHubSpotLatencyMs: 100 }
      : { connections: 20, workflowSeconds: 5, cardRequests: 500, cardHubSpotLatencyMs: 100 };
    if (only.has('workflow')) {
      await settle(env);
      out('Workflow action…');
      rows.push(
        ...(await guarded(
          'workflow',
          [notAvailable('Workflow action', 'reply p99 at c=20', '≤ 250 ms', '')],
          () => benchWorkflowAction(env, load, hello.url, interactive, out),
        )),
      );
    }
    if (only.has('card')) {
      await settle(env);
      out('Card endpoint…');
      rows.push(
        ...(await guarded(
          'card',
          [notAvailable('Card endpoint', 'GET p99 at c=20', '≤ 300 ms', '')],
          () => benchCard(env, load, hello.url, interactive, out),
        )),
      );
    }
    if (only.has('pattern')) {
      out('Attachment name pattern…');
      rows.push(
        ...(await guarded(
          'pattern',
          [notAvailable('Attachment name pattern (250-char name)', 'per match', '—', '')],
          () =>
            Promise.resolve(
              benchNamePattern(
                full ? { matches: 20_000, rounds: 7 } : { matches: 5_000, rounds: 5 },
                out,
              ),
            ),
        )),
      );
    }
    if (only.has('import')) {
      out(`Import (${sizes.join(', ')} MB)…`);
      rows.push(
        ...(await guarded(
          'import',
          [notAvailable('Import', 'peak RSS above idle, 200 MB', '≤ 96 MB', '')],
          () => benchImport(env, sizes, out),
        )),
      );
    }
  } finally {
    load.close();
    await hello.app.close();
    await env.close();
  }

  const table = formatTable(rows);
  out('');
  out(table);
  const finished = new Date();
  const report = {
    startedAt: new Date(started).toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: Math.round((finished.getTime() - started) / 1000),
    size: full ? 'full' : 'default',
    machine: { ...machine, postgres: env.postgres, loadAverage1mAtEnd: os.loadavg()[0] ?? 0 },
    method:
      'App, sandbox, hello-world baseline and sync workers in one process; autocannon in a child process on the same cores; each import in its own child process (maxRSS).',
    rows,
  };
  const dir = path.resolve('bench-results');
  await mkdir(dir, { recursive: true });
  const stamp = finished.toISOString().replace(/[:.]/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(path.join(dir, `${stamp}.json`), json);
  await writeFile(path.join(dir, 'latest.json'), json);
  out('');
  out(
    `Written: bench-results/${stamp}.json and bench-results/latest.json (${String(report.durationSeconds)} s)`,
  );
  out(
    `Load average (1 min): ${String(machine.loadAverage1m)} at start, ${os.loadavg()[0]?.toFixed(2) ?? '?'} at end`,
  );
  const failed = rows.filter((r) => r.verdict === 'FAIL').length;
  const missing = rows.filter((r) => r.verdict === 'not available').length;
  out(
    `${String(failed)} FAIL, ${String(missing)} not available, ${String(rows.filter((r) => r.verdict === 'PASS').length)} PASS`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
