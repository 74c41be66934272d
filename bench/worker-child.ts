import pino from 'pino';

import type { AppConfig } from '../server/src/platform/config/runtime.ts';
import { parseKeyring } from '../server/src/platform/crypto/keyring.ts';
import { createDatabase } from '../server/src/platform/db/database.ts';
import { JobQueue } from '../server/src/platform/jobs/queue.ts';
import { metricsRegistry } from '../server/src/platform/metrics.ts';
import { startWorkers } from '../server/src/worker.ts';

/**
 * A worker process of the many-portals run (`npm run start:worker` in miniature): the real
 * job handlers on their own pool and queue connection. On `stop` it reports where its time
 * went: CPU seconds, seconds its HubSpot calls waited for rate slots, calls made.
 */
export interface WorkerChildRequest {
  readonly databaseUrl: string;
  readonly keyringValue: string;
  readonly config: Omit<AppConfig, 'tokenEncryptionKeys'>;
}

export interface WorkerChildReport {
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly rateWaitSeconds: Record<string, number>;
  readonly hubspotCalls: number;
}

async function metricSum(name: string, byLabel?: string): Promise<Record<string, number>> {
  const metric = metricsRegistry.getSingleMetric(name);
  const out: Record<string, number> = {};
  if (!metric) return out;
  const data = await metric.get();
  for (const v of data.values) {
    const key = byLabel ? String(v.labels[byLabel] ?? '') : 'all';
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}

async function main(request: WorkerChildRequest): Promise<void> {
  const keyring = parseKeyring(request.keyringValue);
  if (!keyring.ok) throw new Error(keyring.problem);
  const config: AppConfig = { ...request.config, tokenEncryptionKeys: keyring.keyring };
  const handle = createDatabase(request.databaseUrl, { maxConnections: 10 });
  const jobs = new JobQueue({
    connectionString: request.databaseUrl,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    worker: true,
    maxConnections: 6,
  });
  await startWorkers({ config, db: handle.db, jobs, log: pino({ level: 'silent' }) });
  let cpuStart = process.cpuUsage();
  let wallStart = performance.now();
  let waitStart = await metricSum('lexicontract_hubspot_rate_limit_wait_seconds_total', 'lane');
  let callsStart = (await metricSum('lexicontract_hubspot_calls_total')).all ?? 0;
  process.send?.({ kind: 'ready' });
  process.on('message', (raw) => {
    const message = raw as { kind: 'mark' | 'stop' };
    void (async () => {
      if (message.kind === 'mark') {
        cpuStart = process.cpuUsage();
        wallStart = performance.now();
        waitStart = await metricSum('lexicontract_hubspot_rate_limit_wait_seconds_total', 'lane');
        callsStart = (await metricSum('lexicontract_hubspot_calls_total')).all ?? 0;
        process.send?.({ kind: 'marked' });
        return;
      }
      const cpu = process.cpuUsage(cpuStart);
      const waits = await metricSum('lexicontract_hubspot_rate_limit_wait_seconds_total', 'lane');
      const rateWaitSeconds: Record<string, number> = {};
      for (const [lane, v] of Object.entries(waits))
        rateWaitSeconds[lane] = v - (waitStart[lane] ?? 0);
      const report: WorkerChildReport = {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        wallSeconds: (performance.now() - wallStart) / 1000,
        rateWaitSeconds,
        hubspotCalls: ((await metricSum('lexicontract_hubspot_calls_total')).all ?? 0) - callsStart,
      };
      await jobs.stop(5_000);
      await handle.destroy();
      process.send?.({ kind: 'report', report }, () => process.exit(0));
    })();
  });
}

process.once('message', (raw) => {
  main(raw as WorkerChildRequest).catch((error: unknown) => {
    process.stderr.write(
      `worker child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
});
