import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import pino from 'pino';

import type { AppConfig } from '../server/src/platform/config/runtime.ts';
import { parseKeyring } from '../server/src/platform/crypto/keyring.ts';
import { createDatabase } from '../server/src/platform/db/database.ts';
import { handleImportDealJob } from '../server/src/hubspot/legal-review/import-job.ts';
import type { ImportDealPayload } from '../server/src/hubspot/legal-review/job-definitions.ts';
import { fetchSignedUrl } from '../server/src/hubspot/legal-review/deal-reader.ts';
import { JobQueue } from '../server/src/platform/jobs/queue.ts';

/**
 * One import in a fresh process, so its peak RSS is its own: `stream` runs the real import
 * job handler (deal → note → signed URL → safe download → writeContractFile into Postgres
 * chunk rows → contract complete + outbox + audit); `buffered` fetches the same signed URL
 * and reads it whole with `await res.arrayBuffer()`.
 *
 * Measurement: warm-up first (every module imported, the pool and the job queue connected,
 * one query run, and one real import of a warm-up file), then the idle baseline. The
 * warm-up import is there because of how V8 frees the buffers a transfer leaves behind:
 * until its first collection driven by external memory, a fresh process lets about 64 MB
 * of them accumulate (measured: `arrayBuffers` peaks at 65 MB about a second into any import
 * over ~32 MB, then collections come every few MB). That first window is the same for every
 * size above it, but whether a 50 MB import closes it early or late made the 50 MB figure
 * swing between +17 and +79 MB, so the size difference said nothing about growth with the
 * file. A server that has imported once is past that window; the warm-up puts the child
 * there too. Then the idle baseline. Forked with `--expose-gc`, the child collects
 * garbage twice before the baseline so start-up garbage does not count either way (only
 * here, in the bench child; the product code never forces a GC). Then the kernel's peak-RSS
 * mark is reset to the current RSS (`/proc/self/clear_refs` ← 5, Linux ≥ 4.0), so the peak
 * read after the import (`VmHWM`) is the import's own and not a start-up spike. Where that
 * reset is not available the figures fall back to `process.resourceUsage().maxRSS` before
 * and after (the `method` field says which was used).
 */
export interface ImportChildRequest {
  readonly mode: 'stream' | 'buffered';
  readonly databaseUrl: string;
  readonly keyringValue: string;
  readonly config: Omit<AppConfig, 'tokenEncryptionKeys'>;
  readonly payload: ImportDealPayload;
  readonly fileId: string;
  /** Imported (streamed, whatever the mode) before the idle baseline; see above. */
  readonly warmUpPayload: ImportDealPayload;
}

export interface ImportChildResult {
  /** RSS at the idle baseline (after warm-up), KiB. */
  readonly idleMaxRssKiB: number;
  /** Peak RSS while importing, KiB. */
  readonly peakMaxRssKiB: number;
  readonly method: 'vmhwm-reset' | 'maxrss';
  readonly bytes: number;
  readonly ms: number;
  readonly detail: string;
}

function statusKiB(field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync('/proc/self/status', 'utf8'),
    );
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Resets the kernel's peak-RSS mark to the current RSS; false where that is not possible. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return statusKiB('VmHWM') !== undefined;
  } catch {
    return false;
  }
}

async function idleBaseline(): Promise<{ idleKiB: number; method: ImportChildResult['method'] }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await sleep(200);
  gc?.();
  await sleep(50);
  if (resetPeakRss()) {
    const rss = statusKiB('VmRSS');
    if (rss !== undefined) return { idleKiB: rss, method: 'vmhwm-reset' };
  }
  return { idleKiB: process.resourceUsage().maxRSS, method: 'maxrss' };
}

function peakKiB(method: ImportChildResult['method']): number {
  return method === 'vmhwm-reset'
    ? (statusKiB('VmHWM') ?? process.resourceUsage().maxRSS)
    : process.resourceUsage().maxRSS;
}

async function main(request: ImportChildRequest): Promise<ImportChildResult> {
  const keyring = parseKeyring(request.keyringValue);
  if (!keyring.ok) throw new Error(keyring.problem);
  const config: AppConfig = { ...request.config, tokenEncryptionKeys: keyring.keyring };
  const handle = createDatabase(request.databaseUrl, { maxConnections: 4 });
  const jobs = new JobQueue({
    connectionString: request.databaseUrl,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    worker: false,
    maxConnections: 2,
  });
  const importDeal = (payload: ImportDealPayload) =>
    handleImportDealJob({ config, db: handle.db, jobs, log: pino({ level: 'silent' }) }, payload, {
      id: 'bench',
      retryCount: 0,
      signal: AbortSignal.timeout(600_000),
    });
  try {
    await jobs.start();
    await handle.db.selectFrom('contracts').select('id').limit(1).execute();
    await importDeal(request.warmUpPayload);
    const warmUp = await handle.db
      .selectFrom('contracts')
      .select(['import_state', 'import_error'])
      .where('id', '=', request.warmUpPayload.contractId)
      .executeTakeFirstOrThrow();
    if (warmUp.import_state !== 'complete') {
      throw new Error(
        `the warm-up import ended ${warmUp.import_state}: ${String(warmUp.import_error)}`,
      );
    }
    const { idleKiB, method } = await idleBaseline();
    const started = performance.now();
    let bytes = 0;
    let detail = '';
    if (request.mode === 'stream') {
      await importDeal(request.payload);
      const contract = await handle.db
        .selectFrom('contracts')
        .select(['import_state', 'import_summary', 'import_error'])
        .where('id', '=', request.payload.contractId)
        .executeTakeFirstOrThrow();
      const file = await handle.db
        .selectFrom('contract_files')
        .select(['size_bytes', 'sha256'])
        .where('contract_id', '=', request.payload.contractId)
        .where('state', '=', 'complete')
        .executeTakeFirst();
      bytes = file?.size_bytes ?? 0;
      detail = `import_state=${contract.import_state}${contract.import_error ? ` error=${contract.import_error}` : ''} sha256=${file?.sha256?.slice(0, 12) ?? '-'}`;
    } else {
      const signed = await fetchSignedUrl(
        { db: handle.db, keyring: config.tokenEncryptionKeys, hubspot: config.hubspot },
        request.payload.portalId,
        request.fileId,
      );
      if (!signed) throw new Error('no signed URL');
      const response = await fetch(signed.url);
      const buffer = await response.arrayBuffer();
      bytes = buffer.byteLength;
      detail = `status=${String(response.status)}`;
    }
    const ms = performance.now() - started;
    return {
      idleMaxRssKiB: idleKiB,
      peakMaxRssKiB: peakKiB(method),
      method,
      bytes,
      ms,
      detail,
    };
  } finally {
    await jobs.stop(2_000);
    await handle.destroy();
  }
}

process.once('message', (raw) => {
  main(raw as ImportChildRequest).then(
    (result) => {
      process.send?.({ ok: true, result }, () => process.exit(0));
    },
    (error: unknown) => {
      process.send?.(
        {
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        },
        () => process.exit(1),
      );
    },
  );
});
