import { randomInt } from 'node:crypto';

import { afterAll, describe, expect, it } from 'vitest';

import { createContract } from '../../../../server/src/core/contracts/contracts-service.ts';
import { listDealAttachments } from '../../../../server/src/hubspot/legal-review/deal-reader.ts';
import type { ImportSummary } from '../../../../server/src/hubspot/legal-review/import-job.ts';
import { requestLegalReview } from '../../../../server/src/hubspot/legal-review/import-service.ts';
import {
  expectedFileSha256,
  SANDBOX_STAGE_IDS,
  type SandboxFileInput,
} from '../../../../sandbox/index.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import {
  CRM_OBJECTS_API_VERSION,
  FILES_API_VERSION,
} from '../../../../server/src/hubspot/wire/api-versions.ts';

/**
 * The import end to end: the sandbox fires the workflow action exactly as HubSpot does
 * (signed), the app answers BLOCK, the import job (run in-process) reads the deal and its
 * attachments from the sandbox and streams them into contract storage, then completes the
 * execution through the callbacks API.
 */
const MAX_FILE_BYTES = 256 * 1024;
const database = await createTestDatabase();
const { db } = database;
const env = await startHubSpotTestEnv({ db, config: { importMaxFileBytes: MAX_FILE_BYTES } });
await env.startWorkers();
// Stop the job workers before the env closes the app and the sandbox under them (runs first:
// hooks run in reverse order); otherwise in-flight jobs stretch teardown by about a minute.
afterAll(async () => {
  await env.jobs.stop(5_000);
});
const { control } = env.sandbox;

async function newDeal(portalId: string, files: SandboxFileInput[][] = []) {
  const dealId = control.createDeal(Number(portalId), {
    dealname: `Acme MSA ${randomInt(1e6)}`,
    amount: '125000',
    deal_currency_code: 'EUR',
    closedate: '2026-09-30T00:00:00.000Z',
  }).id;
  const fileIds: string[] = [];
  for (const group of files) {
    fileIds.push(...control.attachNoteWithFiles(Number(portalId), dealId, group).fileIds);
  }
  return { dealId, fileIds };
}

async function completion(callbackId: string) {
  return waitFor(() => control.callbackCompletions(callbackId)[0], {
    what: `completion of ${callbackId}`,
    timeoutMs: 30_000,
  });
}

async function contractOf(contractId: string) {
  const contract = await db
    .selectFrom('contracts')
    .selectAll()
    .where('id', '=', contractId)
    .executeTakeFirstOrThrow();
  const files = await db
    .selectFrom('contract_files')
    .selectAll()
    .where('contract_id', '=', contractId)
    .orderBy('created_at')
    .execute();
  return { contract, files, summary: contract.import_summary as ImportSummary };
}

async function outbox(dealId: string) {
  return db
    .selectFrom('hubspot_deal_sync')
    .selectAll()
    .where('deal_id', '=', dealId)
    .executeTakeFirstOrThrow();
}

const PDF_A: SandboxFileInput = { name: 'MSA - Acme.pdf', text: 'Master services agreement' };
const PDF_B: SandboxFileInput = { name: 'Order form.pdf', sizeBytes: 150_000 };
const DOCX: SandboxFileInput = { name: 'DPA redlines.docx', text: 'Data processing agreement' };

describe('deal import through the workflow action', () => {
  it('imports two PDFs and a DOCX byte for byte, completes the execution and syncs the deal', async () => {
    const { portalId, organizationId } = await env.connectPortal();
    const { dealId, fileIds } = await newDeal(portalId, [[PDF_A, PDF_B], [DOCX]]);
    const fired = await control.fireWorkflowAction(Number(portalId), dealId, {
      review_priority: 'high',
      note_for_legal: 'Customer wants net 60.',
    });
    expect(fired.status).toBe(200);
    const done = await completion(fired.callbackId);
    const contractId = done.outputFields.contract_id ?? '';
    expect(done.outputFields).toEqual({
      hs_execution_state: 'SUCCESS',
      contract_id: contractId,
      contract_url: `${env.baseUrl}/contracts/${contractId}`,
      import_result: 'imported',
    });

    const { contract, files, summary } = await contractOf(contractId);
    expect(contract).toMatchObject({
      organization_id: organizationId,
      external_source: 'hubspot',
      external_id: dealId,
      external_account_id: portalId,
      negotiation_status: 'pending_review',
      import_state: 'complete',
      import_error: null,
    });
    expect(contract.title).toMatch(/^Acme MSA /);
    expect(contract.source_snapshot).toMatchObject({
      dealId,
      amount: '125000',
      currency: 'EUR',
      closeDate: '2026-09-30T00:00:00.000Z',
      pipeline: { id: 'default', label: expect.any(String) as string },
      stage: { id: expect.any(String) as string, label: expect.any(String) as string },
      review: { trigger: 'workflow', priority: 'high', note: 'Customer wants net 60.' },
    });
    expect(files.map((f) => [f.name, f.state, f.external_file_id, f.sha256])).toEqual(
      [PDF_A, PDF_B, DOCX].map((input, i) => [
        input.name,
        'complete',
        fileIds[i],
        expectedFileSha256(input),
      ]),
    );
    expect(files.map((f) => f.content_type)).toEqual([
      'application/pdf',
      'application/pdf',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ]);
    expect(summary).toMatchObject({ result: 'imported', skipped: [], attachmentsFound: 3 });

    const sync = await outbox(dealId);
    expect(sync).toMatchObject({
      desired_status: 'pending_review',
      desired_contract_url: `${env.baseUrl}/contracts/${contractId}`,
      contract_id: contractId,
    });
    // The sync worker writes the outbox onto the deal.
    const deal = await waitFor(
      () => {
        const d = control.getDeal(Number(portalId), dealId);
        return d?.properties.lexicontract_status === 'pending_review' ? d : undefined;
      },
      { what: 'the deal to show pending_review', timeoutMs: 30_000 },
    );
    expect(deal.properties.lexicontract_contract_url).toBe(
      `${env.baseUrl}/contracts/${contractId}`,
    );
    const execution = await waitFor(async () => {
      const row = await db
        .selectFrom('hubspot_workflow_executions')
        .selectAll()
        .where('callback_id', '=', fired.callbackId)
        .executeTakeFirstOrThrow();
      return row.state === 'completed' ? row : undefined;
    });
    expect(execution.completion).toEqual({ outputFields: done.outputFields });
  });

  it('creates the contract for a deal without attachments and says so', async () => {
    const { portalId } = await env.connectPortal();
    const { dealId } = await newDeal(portalId);
    const fired = await control.fireWorkflowAction(Number(portalId), dealId);
    const done = await completion(fired.callbackId);
    expect(done.outputFields).toMatchObject({
      hs_execution_state: 'SUCCESS',
      import_result: 'no_attachments',
    });
    const { contract, files } = await contractOf(done.outputFields.contract_id ?? '');
    expect(contract.import_state).toBe('complete');
    expect(files).toEqual([]);
    expect((await outbox(dealId)).desired_status).toBe('pending_review');
  });

  it('skips and reports sensitive, oversized and wrong-type files; keeps the rest', async () => {
    const { portalId } = await env.connectPortal();
    const big: SandboxFileInput = { name: 'Scanned annex.pdf', sizeBytes: 4 * MAX_FILE_BYTES };
    const { dealId, fileIds } = await newDeal(portalId, [
      [
        PDF_A,
        { name: 'Salary table.pdf', access: 'SENSITIVE' },
        big,
        { name: 'Pricing.xlsx' },
        // Named .pdf but not a PDF inside: the magic bytes give it away.
        { name: 'Disguised.pdf', kind: 'bytes', contentType: 'application/pdf' },
      ],
    ]);
    const fired = await control.fireWorkflowAction(Number(portalId), dealId);
    const done = await completion(fired.callbackId);
    expect(done.outputFields.import_result).toBe('imported_with_skips');
    const { files, summary } = await contractOf(done.outputFields.contract_id ?? '');
    expect(files.map((f) => f.name)).toEqual([PDF_A.name]);
    expect(summary.skipped.map((s) => [s.fileId, s.reason])).toEqual([
      [fileIds[1], 'sensitive_or_unavailable'],
      [fileIds[2], 'too_large'],
      [fileIds[3], 'type_not_allowed'],
      [fileIds[4], 'type_not_allowed'],
    ]);
    // Nothing of the refused files stays behind, not even partial chunks.
    const chunks = await db
      .selectFrom('contract_file_chunks')
      .innerJoin('contract_files', 'contract_files.id', 'contract_file_chunks.file_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('contract_files.contract_id', '=', done.outputFields.contract_id ?? '')
      .executeTakeFirstOrThrow();
    expect(chunks.n).toBe(1);
  });

  it('imports only attachments whose name matches the pattern', async () => {
    const { portalId } = await env.connectPortal();
    const { dealId } = await newDeal(portalId, [[PDF_A, DOCX]]);
    const fired = await control.fireWorkflowAction(Number(portalId), dealId, {
      attachments: 'matching',
      attachment_name_pattern: '*.docx',
    });
    const done = await completion(fired.callbackId);
    const { files } = await contractOf(done.outputFields.contract_id ?? '');
    expect(files.map((f) => f.name)).toEqual([DOCX.name]);
  });

  it('rides out a HubSpot 429 and finishes', async () => {
    const { portalId } = await env.connectPortal();
    const { dealId } = await newDeal(portalId, [[PDF_A]]);
    control.injectFault({
      path: `/files/${FILES_API_VERSION}/files/[^/]+/signed-url`,
      status: 429,
      count: 1,
    });
    control.injectFault({
      path: `/crm/objects/${CRM_OBJECTS_API_VERSION}/deals/[^/]+$`,
      status: 503,
      count: 1,
    });
    const since = Date.now();
    const fired = await control.fireWorkflowAction(Number(portalId), dealId);
    const done = await completion(fired.callbackId);
    expect(done.outputFields).toMatchObject({
      hs_execution_state: 'SUCCESS',
      import_result: 'imported',
    });
    const faulted = control.requestLog({ since }).filter((e) => e.fault === true);
    expect(faulted.map((e) => e.status).sort()).toEqual([429, 503]);
  });

  it('a revoked portal ends the import as failed with a clear reason', async () => {
    const { portalId } = await env.connectPortal();
    const { dealId } = await newDeal(portalId, [[PDF_A]]);
    control.revokePortal(Number(portalId));
    const fired = await control.fireWorkflowAction(Number(portalId), dealId);
    expect(fired.body).toMatchObject({ outputFields: { hs_execution_state: 'BLOCK' } });
    const contractId =
      (fired.body as { outputFields: Record<string, string> }).outputFields.contract_id ?? '';
    const failed = await waitFor(async () => {
      const { contract } = await contractOf(contractId);
      return contract.import_state === 'failed' ? contract : undefined;
    });
    expect(failed.import_error).toMatch(/^portal_needs_reconnect: .*reconnect/);
    expect((await outbox(dealId)).desired_status).toBe('import_failed');
    const execution = await waitFor(async () => {
      const row = await db
        .selectFrom('hubspot_workflow_executions')
        .selectAll()
        .where('callback_id', '=', fired.callbackId)
        .executeTakeFirstOrThrow();
      return row.state !== 'blocked' ? row : undefined;
    });
    // The completion HubSpot should get is recorded; a revoked app cannot deliver it.
    expect(execution.completion).toEqual({
      outputFields: {
        hs_execution_state: 'FAIL_CONTINUE',
        contract_id: contractId,
        contract_url: `${env.baseUrl}/contracts/${contractId}`,
        import_result: 'portal_needs_reconnect',
      },
    });
    expect(execution.state).toBe('completion_failed');
  });

  it('the sandbox moving a deal to Legal Review imports it', async () => {
    const { portalId } = await env.connectPortal();
    const { dealId } = await newDeal(portalId, [[PDF_A]]);
    const moved = await control.moveDealToStage(
      Number(portalId),
      dealId,
      SANDBOX_STAGE_IDS.legalReview,
    );
    const callbackId = moved.workflowAction?.callbackId ?? '';
    const done = await completion(callbackId);
    expect(done.outputFields.import_result).toBe('imported');
  });
});

describe('requestLegalReview (the service the Deal card calls)', () => {
  const deps = { db, jobs: env.jobs, config: env.config };

  it('returns the open contract on a re-send and adds only the new files to it', async () => {
    const { portalId, organizationId } = await env.connectPortal();
    const { dealId } = await newDeal(portalId, [[PDF_A]]);
    const request = {
      organizationId,
      portalId,
      dealId,
      trigger: 'card' as const,
      actor: 'hubspot:user:1',
    };
    const first = await requestLegalReview(deps, request);
    expect(first).toMatchObject({ created: true, importJobQueued: true });
    await waitFor(
      async () => (await contractOf(first.contract.id)).contract.import_state === 'complete',
    );

    control.attachNoteWithFiles(Number(portalId), dealId, [DOCX]);
    const second = await requestLegalReview(deps, request);
    expect(second.created).toBe(false);
    expect(second.contract.id).toBe(first.contract.id);
    await waitFor(
      async () => (await contractOf(first.contract.id)).contract.import_state === 'complete',
    );
    const { files, summary } = await contractOf(first.contract.id);
    expect(files.map((f) => f.name)).toEqual([PDF_A.name, DOCX.name]);
    expect(summary.imported.map((f) => f.name)).toEqual([DOCX.name]);
    expect(summary.alreadyPresent).toHaveLength(1);
  });

  it('creates a new contract when asked for a new version, and only one for concurrent sends', async () => {
    const { portalId, organizationId } = await env.connectPortal();
    const { dealId } = await newDeal(portalId);
    const request = {
      organizationId,
      portalId,
      dealId,
      trigger: 'card' as const,
      actor: 'hubspot:user:1',
    };
    const sends = await Promise.all(
      Array.from({ length: 5 }, () => requestLegalReview(deps, request)),
    );
    expect(new Set(sends.map((s) => s.contract.id)).size).toBe(1);
    expect(sends.filter((s) => s.created)).toHaveLength(1);
    const next = await requestLegalReview(deps, { ...request, newVersion: true });
    expect(next.created).toBe(true);
    expect(next.contract.id).not.toBe(sends[0]?.contract.id);
  });

  it('does not reuse a closed contract', async () => {
    const { portalId, organizationId } = await env.connectPortal();
    const { dealId } = await newDeal(portalId);
    const old = await createContract(db, {
      organizationId,
      title: 'Old',
      externalSource: 'hubspot',
      externalId: dealId,
      externalAccountId: portalId,
      createdBySource: 'test',
      actor: 'test',
    });
    await db
      .updateTable('contracts')
      .set({ negotiation_status: 'signed' })
      .where('id', '=', old.id)
      .execute();
    const sent = await requestLegalReview(deps, {
      organizationId,
      portalId,
      dealId,
      trigger: 'card',
      actor: 'hubspot:user:1',
    });
    expect(sent.created).toBe(true);
    expect(sent.contract.id).not.toBe(old.id);
  });
});

describe('listDealAttachments', () => {
  it('lists the attachments with whether each can be imported', async () => {
    const { portalId } = await env.connectPortal();
    const { dealId, fileIds } = await newDeal(portalId, [
      [PDF_A, { name: 'Secret.pdf', access: 'SENSITIVE' }],
      [{ name: 'Huge.pdf', sizeBytes: 2 * MAX_FILE_BYTES }, { name: 'Logo.png' }],
    ]);
    const list = await listDealAttachments(env.tokenDeps, portalId, dealId, {
      maxFileBytes: MAX_FILE_BYTES,
    });
    expect(list.map((a) => [a.fileId, a.importable, a.reason])).toEqual([
      [fileIds[0], true, undefined],
      [fileIds[1], false, 'sensitive_or_unavailable'],
      [fileIds[2], false, 'too_large'],
      [fileIds[3], false, 'type_not_allowed'],
    ]);
    expect(list[0]).toMatchObject({ name: PDF_A.name, contentType: 'application/pdf' });
  });
});
