import { PassThrough } from 'node:stream';

import { afterAll, describe, expect, it } from 'vitest';

import { createSignInLink } from '../../../../server/src/core/auth/sign-in-links.ts';
import type { ImportSummary } from '../../../../server/src/hubspot/legal-review/import-job.ts';
import { expectedFileSha256, type SandboxFileInput } from '../../../../sandbox/index.ts';
import { startHubSpotTestEnv, type HubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { WebClient } from '../../../helpers/web-client.ts';

/**
 * Where attachment downloads may go, outside sandbox mode: the configured HubSpot API
 * origin always (a HubSpot stand-in serves its signed files there), other hosts only when
 * they match the file host list. The sandbox's signed URLs point at its own origin.
 */
// One database per app: each runs its own job workers, which must not take the other's jobs.
const liveDb = (await createTestDatabase()).db;
const elsewhereDb = (await createTestDatabase()).db;

const logLines: string[] = [];
const logStream = new PassThrough();
logStream.on('data', (chunk: Buffer) => logLines.push(...chunk.toString('utf8').split('\n')));

// Live mode (not sandbox mode) with the API base at the stand-in's own origin.
const live = await startHubSpotTestEnv({ db: liveDb, hubspot: { sandbox: false } });
// The same stand-in reached through another origin than the one its signed URLs name.
const elsewhere = await startHubSpotTestEnv({
  db: elsewhereDb,
  hubspot: {
    sandbox: false,
    apiBaseUrl: (url) => url.replace('http://127.0.0.1:', 'http://localhost:'),
  },
  logStream,
});
await live.startWorkers();
await elsewhere.startWorkers();
afterAll(async () => {
  await live.jobs.stop(5_000);
  await elsewhere.jobs.stop(5_000);
});

const PDF: SandboxFileInput = { name: 'MSA.pdf', text: 'Master services agreement' };
const DOCX: SandboxFileInput = { name: 'Order form.docx', text: 'Order form' };

async function importDeal(env: HubSpotTestEnv, db: typeof liveDb) {
  const { portalId, organizationId } = await env.connectPortal();
  const control = env.sandbox.control;
  const dealId = control.createDeal(Number(portalId), { dealname: 'Acme' }).id;
  const { fileIds } = control.attachNoteWithFiles(Number(portalId), dealId, [PDF, DOCX]);
  const fired = await control.fireWorkflowAction(Number(portalId), dealId, {});
  expect(fired.status).toBe(200);
  const done = await waitFor(() => control.callbackCompletions(fired.callbackId)[0], {
    what: 'the callback completion',
    timeoutMs: 30_000,
  });
  const contractId = done.outputFields.contract_id ?? '';
  const contract = await db
    .selectFrom('contracts')
    .select(['import_summary'])
    .where('id', '=', contractId)
    .executeTakeFirstOrThrow();
  return {
    organizationId,
    portalId,
    fileIds,
    contractId,
    result: done.outputFields.import_result,
    summary: contract.import_summary as ImportSummary,
  };
}

describe('attachment download hosts', () => {
  it('downloads from the configured API origin outside sandbox mode', async () => {
    const { contractId, result, fileIds } = await importDeal(live, liveDb);
    const db = liveDb;
    expect(result).toBe('imported');
    const files = await db
      .selectFrom('contract_files')
      .select(['sha256', 'external_file_id'])
      .where('contract_id', '=', contractId)
      .orderBy('created_at')
      .execute();
    expect(files.map((f) => f.external_file_id)).toEqual(fileIds);
    expect(files.map((f) => f.sha256)).toEqual([expectedFileSha256(PDF), expectedFileSha256(DOCX)]);
  });

  it('refuses a host outside the list, logs the host only and shows it on the contract page', async () => {
    const { contractId, result, summary, organizationId } = await importDeal(
      elsewhere,
      elsewhereDb,
    );
    const db = elsewhereDb;
    expect(result).toBe('no_importable_attachments');
    const host = new URL(elsewhere.sandbox.url).host;
    expect(summary.skipped).toEqual([
      expect.objectContaining({
        reason: 'download_refused',
        message: `download host not allowed: ${host}`,
      }),
      expect.objectContaining({
        reason: 'download_refused',
        message: `download host not allowed: ${host}`,
      }),
    ]);

    const refusals = logLines
      .filter((line) => line.includes('attachment download URL refused'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(refusals).toHaveLength(2);
    for (const entry of refusals) expect(entry.host).toBe(host);
    // The signed URL's path and query are its credential: never in the log.
    expect(logLines.some((line) => line.includes('/signed-files/'))).toBe(false);

    const link = await createSignInLink(
      db,
      { publicBaseUrl: elsewhere.baseUrl },
      { organizationId, email: 'legal@acme.test' },
    );
    const client = new WebClient(elsewhere.app);
    await client.postForm('/sign-in/link', {
      token: new URL(link.url).searchParams.get('token') ?? '',
    });
    const page = await client.get(`/contracts/${contractId}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(
      new RegExp(
        `<td>MSA\\.pdf</td>\\s*<td>download host not allowed: ${host.replaceAll('.', '\\.')}</td>`,
      ),
    );
  });
});
