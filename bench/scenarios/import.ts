import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { requestLegalReview } from '../../server/src/hubspot/import/import-service.ts';
import type { ImportDealPayload } from '../../server/src/hubspot/import/job-definitions.ts';
import type { BenchEnv } from '../env.ts';
import type { ImportChildRequest, ImportChildResult } from '../import-child.ts';
import { round, verdict, type BenchRow } from '../report.ts';

const MB = 1024 * 1024;

async function runChild(request: ImportChildRequest): Promise<ImportChildResult> {
  const child = fork(fileURLToPath(new URL('../import-child.ts', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (raw) => {
      const reply = raw as { ok: true; result: ImportChildResult } | { ok: false; error: string };
      if (reply.ok) resolve(reply.result);
      else reject(new Error(reply.error));
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`import child exited with ${String(code)}`));
    });
    child.send(request);
  });
}

interface Measured {
  readonly sizeMb: number;
  readonly stream: ImportChildResult;
  readonly buffered: ImportChildResult;
}

const deltaMb = (r: ImportChildResult): number => (r.peakMaxRssKiB - r.idleMaxRssKiB) / 1024;

/**
 * Peak RSS above idle of the real import of one large PDF attachment, each in its own child
 * process, beside a buffered download of the same file in its own child process.
 */
export async function benchImport(
  env: BenchEnv,
  sizesMb: readonly number[],
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const { control } = env.sandbox;
  const { organizationId, portalId } = await env.connectPortal();
  // The key ring travels as its TOKEN_ENCRYPTION_KEYS string (keyringValue), not as Buffers.
  const config = Object.fromEntries(
    Object.entries(env.config).filter(([key]) => key !== 'tokenEncryptionKeys'),
  ) as Omit<typeof env.config, 'tokenEncryptionKeys'>;
  const results: Measured[] = [];
  for (const sizeMb of sizesMb) {
    const deal = control.createDeal(Number(portalId), {
      dealname: `Import bench ${String(sizeMb)} MB`,
    });
    const { fileIds } = control.attachNoteWithFiles(Number(portalId), deal.id, [
      {
        name: `Contract ${String(sizeMb)}MB.pdf`,
        kind: 'pdf',
        sizeBytes: sizeMb * MB,
        seed: `bench-${String(sizeMb)}`,
      },
    ]);
    const fileId = fileIds[0] ?? '';
    const actor = 'bench:import';
    const requested = await requestLegalReview(
      { db: env.db, jobs: env.jobs, config: env.config },
      { organizationId, portalId, dealId: deal.id, trigger: 'card', actor, fileIds: [fileId] },
    );
    const payload: ImportDealPayload = {
      organizationId,
      portalId,
      dealId: deal.id,
      contractId: requested.contract.id,
      trigger: 'card',
      actor,
      fileFilter: { mode: 'all' },
      fileIds: [fileId],
      priority: 'normal',
      note: null,
      requestedAt: new Date().toISOString(),
    };
    const common = {
      databaseUrl: env.databaseUrl,
      keyringValue: env.keyringValue,
      config,
      payload,
      fileId,
    };
    const stream = await runChild({ ...common, mode: 'stream' });
    const buffered = await runChild({ ...common, mode: 'buffered' });
    log(
      `  ${String(sizeMb)} MB: stream +${String(round(deltaMb(stream)))} MB (idle ${String(round(stream.idleMaxRssKiB / 1024))} MB, ${String(stream.bytes)} bytes, ${String(Math.round(stream.ms))} ms, ${stream.detail}); ` +
        `buffered +${String(round(deltaMb(buffered)))} MB (${String(buffered.bytes)} bytes)`,
    );
    if (stream.bytes !== sizeMb * MB) {
      throw new Error(
        `the ${String(sizeMb)} MB import stored ${String(stream.bytes)} bytes: ${stream.detail}`,
      );
    }
    results.push({ sizeMb, stream, buffered });
  }

  const rows: BenchRow[] = [];
  for (const r of results) {
    const is200 = r.sizeMb === 200;
    rows.push({
      scenario: 'Import',
      metric: `peak RSS above idle, ${String(r.sizeMb)} MB attachment`,
      value: round(deltaMb(r.stream)),
      unit: 'MB',
      baseline: `buffered +${String(round(deltaMb(r.buffered)))} MB`,
      target: is200 ? '≤ 96 MB' : '—',
      verdict: is200 ? verdict(deltaMb(r.stream) <= 96) : 'info',
      note: `idle ${String(round(r.stream.idleMaxRssKiB / 1024))} MB, peak ${String(round(r.stream.peakMaxRssKiB / 1024))} MB, ${String(round(r.stream.ms / 1000, 1))} s; ${r.stream.detail}`,
    });
  }
  const small = results.find((r) => r.sizeMb === 50);
  const large = results.find((r) => r.sizeMb === 600);
  if (small && large) {
    const diff = deltaMb(large.stream) - deltaMb(small.stream);
    rows.push({
      scenario: 'Import',
      metric: 'peak RSS delta 600 MB − 50 MB',
      value: round(diff),
      unit: 'MB',
      baseline: `buffered ${String(round(deltaMb(large.buffered) - deltaMb(small.buffered)))} MB`,
      target: '≤ 16 MB',
      verdict: verdict(diff <= 16),
    });
  } else {
    rows.push({
      scenario: 'Import',
      metric: 'peak RSS delta 600 MB − 50 MB',
      value: null,
      unit: '',
      baseline: '—',
      target: '≤ 16 MB',
      verdict: 'not available',
      note: 'the 600 MB import runs with --full',
    });
  }
  return rows;
}
