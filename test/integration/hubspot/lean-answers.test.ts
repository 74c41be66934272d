import { describe, expect, it } from 'vitest';

import {
  changeContractStatus,
  getContract,
} from '../../../server/src/core/contracts/contracts-service.ts';
import { hubspotContractHooks } from '../../../server/src/hubspot/legal-review/contract-hooks.ts';
import { expectedFileSha256, type SandboxFileInput } from '../../../sandbox/index.ts';
import { startHubSpotTestEnv } from '../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { WebClient } from '../../helpers/web-client.ts';

/**
 * The main flows against a sandbox with lean answers on: every answer field the app does not
 * read is left out (`sandbox/lean.ts`), as a live API might. Install, the workflow action
 * importing two files byte for byte, the card, the status sync, its echo and a manual cancel.
 */
const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db, sandbox: { leanAnswers: true } });
await env.startWorkers();
const control = env.sandbox.control;

const PDF: SandboxFileInput = { name: 'MSA.pdf', text: 'Master services agreement' };
const DOCX: SandboxFileInput = { name: 'DPA.docx', text: 'Data processing agreement' };

function dealValue(portalId: string, dealId: string) {
  return control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status;
}

describe('main flows with lean answers', () => {
  it('leaves out the unread fields (the switch is on)', async () => {
    const { portalId } = await env.connectPortal();
    const deal = control.createDeal(Number(portalId), { dealname: 'Lean' });
    const token = control.installApp(Number(portalId)).access_token;
    const response = await fetch(`${env.sandbox.url}/crm/objects/2026-09/notes/batch/read`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ id: deal.id }],
        properties: [],
        propertiesWithHistory: [],
      }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('startedAt');
    expect(body).not.toHaveProperty('completedAt');
  });

  it('installs through the OAuth flow', async () => {
    const client = new WebClient(env.app);
    const start = await client.get('/api/v1/integrations/hubspot/auth');
    expect(start.statusCode).toBe(302);
    const { redirectUrl } = control.approveInstall(String(start.headers.location), {
      portalId: 'new',
    });
    const url = new URL(redirectUrl);
    const callback = await client.get(`${url.pathname}${url.search}`);
    expect(callback.statusCode).toBe(302);
    expect(callback.headers.location).toBe('/integrations?notice=hubspot_connected');
  });

  it('imports two files byte for byte, loads the card, syncs, ignores the echo and takes a manual cancel', async () => {
    const { portalId, organizationId } = await env.connectPortal();
    const dealId = control.createDeal(Number(portalId), { dealname: 'Acme MSA' }).id;
    control.attachNoteWithFiles(Number(portalId), dealId, [PDF]);
    control.attachNoteWithFiles(Number(portalId), dealId, [DOCX]);
    const company = control.createCrmObject(Number(portalId), 'companies', { name: 'Acme' });
    control.associateWithDeal(Number(portalId), dealId, 'companies', company.id, { primary: true });
    const item = control.createCrmObject(Number(portalId), 'line_items', {
      name: 'Licence',
      quantity: '2',
      price: '10',
    });
    control.associateWithDeal(Number(portalId), dealId, 'line_items', item.id);

    const fired = await control.fireWorkflowAction(Number(portalId), dealId, {});
    expect(fired.status).toBe(200);
    const done = await waitFor(() => control.callbackCompletions(fired.callbackId)[0], {
      what: 'the callback completion',
      timeoutMs: 30_000,
    });
    expect(done.outputFields.import_result).toBe('imported');
    const contractId = done.outputFields.contract_id ?? '';
    const files = await db
      .selectFrom('contract_files')
      .select(['sha256'])
      .where('contract_id', '=', contractId)
      .orderBy('created_at')
      .execute();
    expect(files.map((f) => f.sha256)).toEqual([expectedFileSha256(PDF), expectedFileSha256(DOCX)]);
    const snapshot = await db
      .selectFrom('contracts')
      .select('source_snapshot')
      .where('id', '=', contractId)
      .executeTakeFirstOrThrow();
    expect(snapshot.source_snapshot).toMatchObject({
      primaryCompany: { id: company.id, source: 'hubspot_primary' },
      lineItems: [{ id: item.id, amount: '20' }],
    });

    const card = await control.signedCardFetch({
      portalId: Number(portalId),
      userId: 7,
      userEmail: 'rep@example.com',
      method: 'GET',
      url: `${env.baseUrl}/api/v1/integrations/hubspot/card?dealId=${dealId}`,
    });
    expect(card.status).toBe(200);
    expect(card.body).toMatchObject({ state: 'ready', deal: { id: dealId } });

    await waitFor(() => dealValue(portalId, dealId) === 'pending_review', { what: 'first sync' });
    await changeContractStatus(
      db,
      { organizationId, contractId, to: 'in_review', source: 'api', actor: 'test' },
      hubspotContractHooks(env.config, env.jobs),
    );
    await waitFor(() => dealValue(portalId, dealId) === 'in_review', { what: 'status sync' });
    await control.webhooksIdle();
    await waitFor(
      async () => {
        const rows = await db
          .selectFrom('hubspot_webhook_events')
          .select(['outcome', 'property_value'])
          .where('portal_id', '=', portalId)
          .where('property_name', '=', 'lexicontract_status')
          .execute();
        return rows.some((r) => r.property_value === 'in_review' && r.outcome === 'echo');
      },
      { what: 'the echo recognised' },
    );

    control.editDealAsUser(Number(portalId), dealId, { lexicontract_status: 'cancelled' });
    await waitFor(
      async () =>
        (await getContract(db, organizationId, contractId)).negotiationStatus === 'cancelled',
      { what: 'the manual cancel' },
    );
  });
});
