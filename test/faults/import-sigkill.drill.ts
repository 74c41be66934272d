import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { IMPORT_RETRY_LIMIT } from '../../server/src/hubspot/legal-review/job-definitions.ts';
import { hubspotPaths } from '../../server/src/hubspot/wire/api-versions.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { TEST_KEYRING_VALUE } from '../helpers/test-app.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { exited, spawnNodeChild } from './fault-helpers.ts';

/**
 * Issue 18 item 6: a worker SIGKILLed at each step of a deal import. One workflow-triggered
 * import of a deal with three attachments (one of 40 MB), run by a worker process that is
 * killed, and replaced by a fresh one, at a different step of each attempt:
 *
 *   attempt 0: a download in flight, nothing stored yet;
 *   attempt 1: mid-file (the large file partly stored);
 *   attempt 2: two files stored, the outcome not yet written;
 *   attempt 3: while reading the deal;
 *   attempt 4 (the last retry): a download in flight again.
 *
 * While a retry is queued the sweep leaves the contract alone (it stays `importing` and the
 * next attempt picks it up). Once the last attempt's job is dead, the sweep fails the import
 * within a bounded time: the contract is `failed`, the deal shows `import_failed`, and the
 * blocked workflow execution is completed once (FAIL_CONTINUE). A second case kills one
 * attempt mid-file and lets the retry finish: the import completes with every file.
 *
 * The bound: a contract leaves `importing` at most `IMPORT_STUCK_AFTER_SECONDS` after its last
 * progress and one sweep after its job is dead. Measured here from the later of the two, with
 * room for pg-boss's cron pass and job polling: three sweep intervals.
 */
const SWEEP_INTERVAL_SECONDS = 5;
const IMPORT_STUCK_AFTER_SECONDS = 10;
const SWEEP_BOUND_MS = 3 * SWEEP_INTERVAL_SECONDS * 1000;
/** pg-boss notices a dead worker's job (heartbeat 10 s, checks every 10 s) and retries it. */
const RETRY_BOUND_MS = 120_000;
const HANG_MS = 90_000;

const database = await createTestDatabase();
const { db } = database;
const env = await startHubSpotTestEnv({
  db,
  config: {
    sweepIntervalSeconds: SWEEP_INTERVAL_SECONDS,
    importStuckAfterSeconds: IMPORT_STUCK_AFTER_SECONDS,
  },
});
const control = env.sandbox.control;
const workerScript = fileURLToPath(new URL('./import-worker-child.ts', import.meta.url));

async function startWorker(): Promise<ChildProcess> {
  const config: Record<string, unknown> = { ...env.config };
  delete config.tokenEncryptionKeys;
  return spawnNodeChild(workerScript, {
    readyText: 'ready',
    env: {
      WORKER_CHILD_CONFIG: JSON.stringify({
        databaseUrl: database.url,
        keyring: TEST_KEYRING_VALUE,
        config,
      }),
    },
  });
}

async function kill(worker: ChildProcess): Promise<void> {
  worker.kill('SIGKILL');
  expect(await exited(worker)).toBe('SIGKILL');
}

interface ImportJob {
  state: string;
  retry_count: number;
}

async function importJobs(contractId: string): Promise<ImportJob[]> {
  const result = await sql<ImportJob>`
    select state::text as state, retry_count from pgboss.job
     where name = 'hubspot-import-deal' and data->>'contractId' = ${contractId}
  `.execute(db);
  return result.rows;
}

/** Waits until attempt `retry` of the contract's import job is running. */
async function attemptRunning(contractId: string, retry: number): Promise<void> {
  await waitFor(
    async () =>
      (await importJobs(contractId)).some((j) => j.state === 'active' && j.retry_count === retry),
    { timeoutMs: RETRY_BOUND_MS, intervalMs: 100, what: `import attempt ${String(retry)}` },
  );
}

async function contractState(contractId: string) {
  return db
    .selectFrom('contracts')
    .select(['import_state', 'import_error', 'updated_at'])
    .where('id', '=', contractId)
    .executeTakeFirstOrThrow();
}

async function files(contractId: string) {
  return db
    .selectFrom('contract_files')
    .leftJoin('contract_file_chunks', 'contract_file_chunks.file_id', 'contract_files.id')
    .select((eb) => [
      'contract_files.name',
      'contract_files.state',
      eb.fn.count<string>('contract_file_chunks.seq').as('chunks'),
    ])
    .where('contract_files.contract_id', '=', contractId)
    .groupBy(['contract_files.id', 'contract_files.name', 'contract_files.state'])
    .execute();
}

/** A deal with three attachments, sent to legal review by a workflow; the contract it made. */
async function importedDeal(portalId: string) {
  const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'Drill MSA' });
  const { fileIds } = control.attachNoteWithFiles(Number(portalId), dealId, [
    { name: 'A cover letter.pdf', text: 'Cover letter' },
    { name: 'B master agreement.pdf', kind: 'pdf', sizeBytes: 40 * 1024 * 1024 },
    { name: 'C order form.pdf', text: 'Order form' },
  ]);
  const [fileA, fileB, fileC] = fileIds;
  if (!fileA || !fileB || !fileC) throw new Error('three files expected');
  const action = await control.fireWorkflowAction(Number(portalId), dealId);
  expect(action.status).toBe(200);
  const contract = await waitFor(
    () =>
      db
        .selectFrom('contracts')
        .select('id')
        .where('external_account_id', '=', portalId)
        .where('external_id', '=', dealId)
        .executeTakeFirst(),
    { what: 'the contract the workflow action made' },
  );
  return { dealId, fileA, fileB, fileC, callbackId: action.callbackId, contractId: contract.id };
}

/** Waits until the file's signed URL was handed out after `since` (its download comes next). */
async function signedUrlServed(fileId: string, since: number): Promise<void> {
  await waitFor(
    () =>
      control
        .requestLog({ since })
        .some((e) => e.path === hubspotPaths.fileSignedUrl(fileId) && e.status === 200),
    { timeoutMs: RETRY_BOUND_MS, intervalMs: 25, what: `the signed URL of ${fileId}` },
  );
  // The worker asks for the bytes right away; they hang (the fault) while it is killed.
  await sleep(300);
}

describe('fault drill: a worker SIGKILLed at each step of an import', () => {
  it('kills at every step, the last retry included: the sweep fails the import and tells HubSpot, in bounded time', async () => {
    const { portalId } = await env.connectPortal();
    let worker = await startWorker();
    const { dealId, fileA, fileC, callbackId, contractId } = await importedDeal(portalId);

    // Attempt 0: the first download hangs; kill with it in flight.
    control.injectFault({ path: '^/signed-files/', latencyMs: HANG_MS, count: 1 });
    let since = Date.now();
    await attemptRunning(contractId, 0);
    await signedUrlServed(fileA, since);
    await kill(worker);
    expect((await files(contractId)).filter((f) => f.state === 'complete')).toEqual([]);
    worker = await startWorker();

    // Attempt 1: mid-file — the 40 MB file has chunks stored but is not complete.
    await attemptRunning(contractId, 1);
    await waitFor(
      async () =>
        (await files(contractId)).some(
          (f) => f.name.startsWith('B ') && f.state === 'writing' && Number(f.chunks) > 0,
        ),
      { timeoutMs: RETRY_BOUND_MS, intervalMs: 5, what: 'the large file partly stored' },
    );
    await kill(worker);
    worker = await startWorker();

    // Attempt 2: A and B stored, C's metadata read hangs; the outcome is not written.
    control.injectFault({
      path: `^${hubspotPaths.file(fileC)}$`,
      method: 'GET',
      latencyMs: HANG_MS,
      count: 1,
    });
    await attemptRunning(contractId, 2);
    await waitFor(
      async () =>
        (await files(contractId)).filter(
          (f) => f.state === 'complete' && (f.name.startsWith('A ') || f.name.startsWith('B ')),
        ).length === 2,
      { timeoutMs: RETRY_BOUND_MS, intervalMs: 25, what: 'two files stored' },
    );
    await sleep(300);
    await kill(worker);
    expect((await contractState(contractId)).import_state).toBe('importing');
    worker = await startWorker();

    // Attempt 3: killed while reading the deal.
    control.injectFault({
      path: `^${hubspotPaths.deal(dealId)}$`,
      method: 'GET',
      latencyMs: HANG_MS,
      count: 1,
    });
    await attemptRunning(contractId, 3);
    await sleep(500);
    await kill(worker);
    worker = await startWorker();

    // Attempt 4, the last retry: killed with C's download in flight.
    expect(IMPORT_RETRY_LIMIT).toBe(4);
    control.injectFault({ path: '^/signed-files/', latencyMs: HANG_MS, count: 1 });
    since = Date.now();
    await attemptRunning(contractId, 4);
    // While every retry was queued or running, the sweep left the contract alone.
    expect((await contractState(contractId)).import_state).toBe('importing');
    await signedUrlServed(fileC, since);
    await kill(worker);
    worker = await startWorker();

    // Nothing retries the job now; once pg-boss has marked it failed, the sweep takes over.
    await waitFor(
      async () => {
        const jobs = await importJobs(contractId);
        return jobs.length > 0 && jobs.every((j) => j.state === 'failed');
      },
      { timeoutMs: RETRY_BOUND_MS, intervalMs: 250, what: 'the import job to be failed' },
    );
    const lastProgress = (await contractState(contractId)).updated_at.getTime();
    const eligibleAt = Math.max(Date.now(), lastProgress + IMPORT_STUCK_AFTER_SECONDS * 1000);
    await waitFor(async () => (await contractState(contractId)).import_state !== 'importing', {
      timeoutMs: eligibleAt + SWEEP_BOUND_MS - Date.now(),
      intervalMs: 250,
      what: 'the sweep to end the import',
    });
    expect(await contractState(contractId)).toMatchObject({
      import_state: 'failed',
      import_error: expect.stringContaining('its worker was lost') as string,
    });

    // HubSpot is told: the deal shows import_failed, the workflow execution is completed once.
    await waitFor(
      () =>
        control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status ===
        'import_failed',
      { timeoutMs: 30_000, what: 'import_failed on the deal' },
    );
    await waitFor(() => control.callbackCompletions(callbackId).length > 0, {
      timeoutMs: 60_000,
      what: 'the workflow execution completed',
    });
    const completions = control.callbackCompletions(callbackId);
    expect(completions).toHaveLength(1);
    expect(completions[0]?.outputFields).toMatchObject({
      hs_execution_state: 'FAIL_CONTINUE',
      import_result: 'import_failed',
    });
    await kill(worker);
  }, 420_000);

  it('a kill mid-file is picked up by the retry, which finishes the import with every file', async () => {
    const { portalId } = await env.connectPortal();
    let worker = await startWorker();
    const { dealId, callbackId, contractId } = await importedDeal(portalId);
    await attemptRunning(contractId, 0);
    await waitFor(
      async () =>
        (await files(contractId)).some(
          (f) => f.name.startsWith('B ') && f.state === 'writing' && Number(f.chunks) > 0,
        ),
      { timeoutMs: RETRY_BOUND_MS, intervalMs: 5, what: 'the large file partly stored' },
    );
    await kill(worker);
    worker = await startWorker();

    await waitFor(async () => (await contractState(contractId)).import_state === 'complete', {
      timeoutMs: RETRY_BOUND_MS,
      intervalMs: 250,
      what: 'the retried import to complete',
    });
    const stored = (await files(contractId)).filter((f) => f.state === 'complete');
    expect(stored.map((f) => f.name).sort()).toEqual([
      'A cover letter.pdf',
      'B master agreement.pdf',
      'C order form.pdf',
    ]);
    await waitFor(
      () =>
        control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status ===
        'pending_review',
      { timeoutMs: 30_000, what: 'pending_review on the deal' },
    );
    await waitFor(() => control.callbackCompletions(callbackId).length > 0, {
      timeoutMs: 60_000,
      what: 'the workflow execution completed',
    });
    expect(control.callbackCompletions(callbackId)[0]?.outputFields).toMatchObject({
      hs_execution_state: 'SUCCESS',
    });
    await kill(worker);
  }, 300_000);
});
