import pino from 'pino';

import type { AppConfig } from '../server/src/config/runtime.ts';
import { parseKeyring } from '../server/src/crypto/keyring.ts';
import { createDatabase } from '../server/src/db/database.ts';
import { handleImportDealJob } from '../server/src/hubspot/import/import-job.ts';
import type { ImportDealPayload } from '../server/src/hubspot/import/job-definitions.ts';
import { fetchSignedUrl } from '../server/src/hubspot/import/deal-reader.ts';
import { JobQueue } from '../server/src/jobs/queue.ts';

/**
 * One import in a fresh process, so its peak RSS is its own: `stream` runs the real import
 * job handler (deal → note → signed URL → safe download → writeContractFile into Postgres
 * chunk rows → contract complete + outbox + audit); `buffered` fetches the same signed URL
 * and reads it whole with `await res.arrayBuffer()`. Peak RSS comes from
 * `process.resourceUsage().maxRSS`, taken once everything is connected (idle) and after.
 */
export interface ImportChildRequest {
  readonly mode: 'stream' | 'buffered';
  readonly databaseUrl: string;
  readonly keyringValue: string;
  readonly config: Omit<AppConfig, 'tokenEncryptionKeys'>;
  readonly payload: ImportDealPayload;
  readonly fileId: string;
}

export interface ImportChildResult {
  readonly idleMaxRssKiB: number;
  readonly peakMaxRssKiB: number;
  readonly bytes: number;
  readonly ms: number;
  readonly detail: string;
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
  try {
    await jobs.start();
    await handle.db.selectFrom('contracts').select('id').limit(1).execute();
    await new Promise((r) => setTimeout(r, 200));
    const idle = process.resourceUsage().maxRSS;
    const started = performance.now();
    let bytes = 0;
    let detail = '';
    if (request.mode === 'stream') {
      await handleImportDealJob(
        { config, db: handle.db, jobs, log: pino({ level: 'silent' }) },
        request.payload,
        { id: 'bench', retryCount: 0, signal: AbortSignal.timeout(600_000) },
      );
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
      idleMaxRssKiB: idle,
      peakMaxRssKiB: process.resourceUsage().maxRSS,
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
