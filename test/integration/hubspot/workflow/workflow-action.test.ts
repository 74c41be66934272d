import { randomBytes, randomInt } from 'node:crypto';

import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';

import {
  SIGNATURE_HEADERS,
  signV2,
  signV3,
} from '../../../../server/src/hubspot/signature/index.ts';
import type { WorkflowActionExecution } from '../../../../server/src/hubspot/wire/index.ts';
import { WORKFLOW_ACTION_PATH } from '../../../../server/src/hubspot/workflow/action-definition.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';

/**
 * The workflow action endpoint as HubSpot calls it. No job workers run in this file: what
 * is asserted is exactly what the request handler writes (and refuses to write).
 */
const database = await createTestDatabase();
const { db } = database;
const env = await startHubSpotTestEnv({ db });
// Stop the job workers before the env closes the app and the sandbox under them (runs first:
// hooks run in reverse order); otherwise in-flight jobs stretch teardown by about a minute.
afterAll(async () => {
  await env.jobs.stop(5_000);
});
const url = `${env.baseUrl}${WORKFLOW_ACTION_PATH}`;
const secret = env.config.hubspot.clientSecret;

function execution(portalId: number, dealId: string, callbackId?: string): WorkflowActionExecution {
  return {
    callbackId: callbackId ?? `ap-${portalId}-${randomBytes(6).toString('hex')}-1-0`,
    origin: { portalId, actionDefinitionId: 1000001, actionDefinitionVersion: 1 },
    context: { source: 'WORKFLOWS', workflowId: 42 },
    object: { objectId: Number(dealId), objectType: 'DEAL', properties: { dealname: 'Deal' } },
    inputFields: {},
  };
}

type Signing = 'v3+v2' | 'v2' | 'none' | 'wrong-secret' | 'stale-v3' | 'altered';

async function post(body: WorkflowActionExecution, signing: Signing = 'v3+v2') {
  let raw = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const timestamp = String(signing === 'stale-v3' ? Date.now() - 6 * 60 * 1000 : Date.now());
  const key = signing === 'wrong-secret' ? 'not-the-secret' : secret;
  if (signing !== 'none') {
    headers[SIGNATURE_HEADERS.signature] = signV2({
      clientSecret: key,
      method: 'POST',
      uri: url,
      rawBody: raw,
    });
    headers[SIGNATURE_HEADERS.version] = 'v2';
    if (signing !== 'v2') {
      headers[SIGNATURE_HEADERS.v3] = signV3({
        clientSecret: key,
        method: 'POST',
        uri: url,
        rawBody: raw,
        timestamp,
      });
      headers[SIGNATURE_HEADERS.timestamp] = timestamp;
    }
  }
  if (signing === 'altered') raw = raw.replace('"objectId":', '"objectId":1');
  const response = await fetch(url, { method: 'POST', headers, body: raw });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function counts(dealId: string) {
  const one = async (table: 'contracts' | 'hubspot_workflow_executions' | 'hubspot_deal_sync') => {
    const column = table === 'contracts' ? 'external_id' : 'deal_id';
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(column, '=', dealId)
      .executeTakeFirstOrThrow();
    return row.n;
  };
  return {
    contracts: await one('contracts'),
    executions: await one('hubspot_workflow_executions'),
    outbox: await one('hubspot_deal_sync'),
  };
}

async function importJobs(contractId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from pgboss.job
    where name = 'hubspot-import-deal' and data->>'contractId' = ${contractId}`.execute(db);
  return rows[0]?.n ?? 0;
}

async function dealIn(portalId: string): Promise<string> {
  return env.sandbox.control.createDeal(Number(portalId), { dealname: `Deal ${randomInt(1e6)}` })
    .id;
}

describe('POST /api/v1/integrations/hubspot/webhook', () => {
  it('answers BLOCK and writes the execution, the contract shell, the outbox row and one import job in one go', async () => {
    const { portalId, organizationId } = await env.connectPortal();
    const dealId = await dealIn(portalId);
    const request = execution(Number(portalId), dealId);
    const { status, body } = await post(request);
    expect(status).toBe(200);
    const outputs = body.outputFields as Record<string, string>;
    expect(outputs.hs_execution_state).toBe('BLOCK');
    expect(outputs.hs_expiration_duration).toMatch(/^P/);
    const contract = await db
      .selectFrom('contracts')
      .selectAll()
      .where('external_id', '=', dealId)
      .executeTakeFirstOrThrow();
    expect(outputs.contract_id).toBe(contract.id);
    expect(outputs.contract_url).toBe(`${env.baseUrl}/contracts/${contract.id}`);
    expect(contract).toMatchObject({
      organization_id: organizationId,
      external_source: 'hubspot',
      external_account_id: portalId,
      negotiation_status: 'pending_review',
      import_state: 'importing',
      created_by_source: 'hubspot_workflow',
    });
    const outbox = await db
      .selectFrom('hubspot_deal_sync')
      .selectAll()
      .where('deal_id', '=', dealId)
      .executeTakeFirstOrThrow();
    expect(outbox).toMatchObject({ desired_status: 'importing', contract_id: contract.id });
    expect(await importJobs(contract.id)).toBe(1);

    // A retried execution (same callbackId) gets the identical answer and creates nothing.
    const again = await post(request);
    expect(again).toEqual({ status, body });
    expect(await counts(dealId)).toEqual({ contracts: 1, executions: 1, outbox: 1 });
    expect(await importJobs(contract.id)).toBe(1);
  });

  it('accepts a v2-only signature (what the docs say workflow actions send)', async () => {
    const { portalId } = await env.connectPortal();
    const dealId = await dealIn(portalId);
    const { status, body } = await post(execution(Number(portalId), dealId), 'v2');
    expect(status).toBe(200);
    expect((body.outputFields as Record<string, string>).hs_execution_state).toBe('BLOCK');
  });

  it('the same callbackId delivered 50 times at once makes one contract and 50 identical answers', async () => {
    const { portalId } = await env.connectPortal();
    const dealId = await dealIn(portalId);
    const request = execution(Number(portalId), dealId);
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(request)));
    const first = answers[0];
    expect(first?.status).toBe(200);
    for (const answer of answers) expect(answer).toEqual(first);
    expect(await counts(dealId)).toEqual({ contracts: 1, executions: 1, outbox: 1 });
    const contractId = (first?.body.outputFields as Record<string, string>).contract_id ?? '';
    expect(await importJobs(contractId)).toBe(1);
  });

  it('a second execution for a deal with an open contract reuses that contract', async () => {
    const { portalId } = await env.connectPortal();
    const dealId = await dealIn(portalId);
    const a = await post(execution(Number(portalId), dealId));
    const b = await post(execution(Number(portalId), dealId));
    const id = (x: typeof a) => (x.body.outputFields as Record<string, string>).contract_id;
    expect(id(b)).toBe(id(a));
    expect(await counts(dealId)).toMatchObject({ contracts: 1, executions: 2 });
  });

  it.each<[Signing, string]>([
    ['none', 'a missing signature'],
    ['wrong-secret', 'a signature made with another secret'],
    ['stale-v3', 'a v3 timestamp older than 5 minutes'],
    ['altered', 'a body altered after signing'],
  ])('refuses %s (%s) with 401 and writes nothing', async (signing) => {
    const { portalId } = await env.connectPortal();
    const dealId = await dealIn(portalId);
    const { status, body } = await post(execution(Number(portalId), dealId), signing);
    expect(status).toBe(401);
    expect(body).toMatchObject({ error: { code: 'invalid_signature' } });
    expect(await counts(dealId)).toEqual({ contracts: 0, executions: 0, outbox: 0 });
  });

  it('answers FAIL_CONTINUE for a portal that is not connected, and writes nothing', async () => {
    const { portalId } = env.sandbox.control.createPortal({ name: 'Never connected' });
    const dealId = env.sandbox.control.createDeal(portalId, { dealname: 'Orphan' }).id;
    const { status, body } = await post(execution(portalId, dealId));
    expect(status).toBe(200);
    expect(body).toEqual({
      outputFields: { hs_execution_state: 'FAIL_CONTINUE', import_result: 'portal_not_connected' },
    });
    expect(await counts(dealId)).toEqual({ contracts: 0, executions: 0, outbox: 0 });
  });

  it('answers FAIL_CONTINUE for a portal that needs reconnecting, and writes nothing', async () => {
    const { portalId } = await env.connectPortal();
    await db
      .updateTable('organization_integrations')
      .set({ status: 'needs_reconnect' })
      .where('external_account_id', '=', portalId)
      .execute();
    const dealId = await dealIn(portalId);
    const { body } = await post(execution(Number(portalId), dealId));
    expect(body).toEqual({
      outputFields: {
        hs_execution_state: 'FAIL_CONTINUE',
        import_result: 'portal_needs_reconnect',
      },
    });
    expect(await counts(dealId)).toEqual({ contracts: 0, executions: 0, outbox: 0 });
  });

  it('answers FAIL_CONTINUE for invalid action settings, and writes nothing', async () => {
    const { portalId } = await env.connectPortal();
    const dealId = await dealIn(portalId);
    const request = {
      ...execution(Number(portalId), dealId),
      inputFields: { attachments: 'matching' },
    };
    const { body } = await post(request);
    expect(body).toEqual({
      outputFields: { hs_execution_state: 'FAIL_CONTINUE', import_result: 'invalid_input' },
    });
    expect(await counts(dealId)).toEqual({ contracts: 0, executions: 0, outbox: 0 });
  });

  it('the sandbox firing the action (moving a deal to Legal Review) gets BLOCK', async () => {
    const { portalId } = await env.connectPortal();
    const dealId = await dealIn(portalId);
    const { workflowAction } = await env.sandbox.control.moveDealToStage(
      Number(portalId),
      dealId,
      '1043765802',
    );
    expect(workflowAction?.status).toBe(200);
    expect(workflowAction?.body).toMatchObject({ outputFields: { hs_execution_state: 'BLOCK' } });
    expect(await counts(dealId)).toEqual({ contracts: 1, executions: 1, outbox: 1 });
  });
});
