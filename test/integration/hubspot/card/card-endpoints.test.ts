import { randomUUID } from 'node:crypto';

import { Signature } from '@hubspot/api-client';
import { describe, expect, it } from 'vitest';

import {
  ApiErrorSchema,
  CardDataSchema,
  CardSendResultSchema,
  type CardReady,
} from '../../../../hubspot-app/app/cards/api-schemas.ts';
import { createContract } from '../../../../server/src/core/contracts/contracts-service.ts';
import { saveHubSpotSettings } from '../../../../server/src/hubspot/legal-review/settings-store.ts';
import { SIGNATURE_HEADERS, signV3 } from '../../../../server/src/hubspot/signature/index.ts';
import { createOrganization } from '../../../../server/src/core/organizations/organizations.ts';
import {
  cardEmpty,
  cardNeedsReconnect,
  cardNotConnected,
  cardReadyWithOpenContract,
  errorDealNotFound,
  errorNeedsReconnect,
  keyShape,
  sendCreated,
} from '../../../fixtures/hubspot-ui-extensions.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';

const database = await createTestDatabase();
const db = database.db;
const env = await startHubSpotTestEnv({ db });
const CARD = `${env.baseUrl}/api/v1/integrations/hubspot/card`;
const SEND = `${env.baseUrl}/api/v1/integrations/hubspot/card/send`;

function cardGet(portalId: string, dealId: string, userId = 7) {
  return env.sandbox.control.signedCardFetch({
    portalId: Number(portalId),
    userId,
    userEmail: `rep${userId}@example.com`,
    method: 'GET',
    url: `${CARD}?dealId=${dealId}`,
  });
}

function cardSend(portalId: string, body: Record<string, unknown>, userId = 7) {
  return env.sandbox.control.signedCardFetch({
    portalId: Number(portalId),
    userId,
    userEmail: `rep${userId}@example.com`,
    method: 'POST',
    url: SEND,
    body,
  });
}

async function dealContracts(portalId: string, dealId: string) {
  return db
    .selectFrom('contracts')
    .select(['id', 'organization_id', 'negotiation_status'])
    .where('external_source', '=', 'hubspot')
    .where('external_account_id', '=', portalId)
    .where('external_id', '=', dealId)
    .execute();
}

/** A connected portal with a deal carrying a PDF, a DOCX and a PNG. */
async function dealWithAttachments(name = 'Acme renewal') {
  const { organizationId, portalId } = await env.connectPortal();
  const deal = env.sandbox.control.createDeal(Number(portalId), { dealname: name });
  const { fileIds } = env.sandbox.control.attachNoteWithFiles(Number(portalId), deal.id, [
    { name: 'MSA.pdf', text: 'Master services agreement' },
    { name: 'Order form.docx', text: 'Order form' },
    { name: 'logo.png', kind: 'bytes', contentType: 'image/png' },
  ]);
  return { organizationId, portalId, dealId: deal.id, fileIds };
}

function ready(body: unknown): CardReady {
  const data = CardDataSchema.parse(body);
  if (data.state !== 'ready') throw new Error(`expected the ready state, got ${data.state}`);
  return data;
}

describe('GET /api/v1/integrations/hubspot/card', () => {
  it('lists the deal’s contracts with status, last change and link, and its attachments', async () => {
    const { organizationId, portalId, dealId, fileIds } = await dealWithAttachments();
    const contract = await createContract(db, {
      organizationId,
      title: 'Acme renewal',
      externalSource: 'hubspot',
      externalId: dealId,
      externalAccountId: portalId,
      createdBySource: 'hubspot_card',
      actor: 'test',
    });
    const response = await cardGet(portalId, dealId);
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const data = ready(response.body);
    expect(data.deal).toEqual({ id: dealId, name: 'Acme renewal' });
    expect(data.contracts).toEqual([
      expect.objectContaining({
        id: contract.id,
        status: 'pending_review',
        statusLabel: 'Pending review',
        open: true,
        url: `${env.baseUrl}/contracts/${contract.id}`,
      }),
    ]);
    expect(data.openContractId).toBe(contract.id);
    expect(data.attachments.map((a) => [a.id, a.name, a.importable, a.preselected])).toEqual([
      [fileIds[0], 'MSA.pdf', true, true],
      [fileIds[1], 'Order form.docx', true, true],
      [fileIds[2], 'logo.png', false, false],
    ]);
    expect(data.attachments[2]?.note).toMatch(/only PDF, DOCX, DOC, RTF and TXT/);
    // The fixtures the card is tested with have exactly this shape.
    expect(keyShape(data)).toEqual(keyShape(cardReadyWithOpenContract));
    expect(JSON.stringify(response.body).length).toBeLessThan(1024 * 1024);
  });

  it('preselects only attachments matching the portal’s default name pattern and says why', async () => {
    const { organizationId, portalId, dealId } = await dealWithAttachments();
    await saveHubSpotSettings(
      db,
      organizationId,
      {
        closedLostBehavior: 'cancel_contract',
        attachmentFilter: { mode: 'matching', pattern: 'MSA*' },
      },
      'test',
    );
    const data = ready((await cardGet(portalId, dealId)).body);
    expect(data.attachments.map((a) => a.preselected)).toEqual([true, false, false]);
    expect(data.attachments[1]?.note).toContain('MSA*');
  });

  it('answers the empty state for a deal never sent and without attachments', async () => {
    const { portalId } = await env.connectPortal();
    const deal = env.sandbox.control.createDeal(Number(portalId), { dealname: 'Bare deal' });
    const data = ready((await cardGet(portalId, deal.id)).body);
    expect(data).toMatchObject({ contracts: [], openContractId: null, attachments: [] });
    expect(keyShape(data)).toEqual(keyShape(cardEmpty));
  });

  it('shows only this organization’s contracts for the deal', async () => {
    const { organizationId, portalId, dealId } = await dealWithAttachments();
    const other = await createOrganization(db, 'Someone else');
    await createContract(db, {
      organizationId: other.id,
      title: 'Not yours',
      externalSource: 'hubspot',
      externalId: dealId,
      externalAccountId: portalId,
      createdBySource: 'api',
      actor: 'test',
    });
    const mine = await createContract(db, {
      organizationId,
      title: 'Yours',
      externalSource: 'hubspot',
      externalId: dealId,
      externalAccountId: portalId,
      createdBySource: 'api',
      actor: 'test',
    });
    const data = ready((await cardGet(portalId, dealId)).body);
    expect(data.contracts.map((c) => c.id)).toEqual([mine.id]);
  });

  it('refuses a deal of another portal with a 404 that leaks nothing', async () => {
    const mine = await env.connectPortal();
    const theirs = await dealWithAttachments('Their secret deal');
    await createContract(db, {
      organizationId: theirs.organizationId,
      title: 'Their secret deal',
      externalSource: 'hubspot',
      externalId: theirs.dealId,
      externalAccountId: theirs.portalId,
      createdBySource: 'api',
      actor: 'test',
    });
    const response = await cardGet(mine.portalId, theirs.dealId);
    expect(response.status).toBe(404);
    expect(ApiErrorSchema.parse(response.body)).toEqual(errorDealNotFound);
    expect(JSON.stringify(response.body)).not.toContain('secret');
    // Indistinguishable from a deal that does not exist at all.
    const missing = await cardGet(mine.portalId, '987654321');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(response.body);
  });

  it('answers the needs-reconnect state when the portal was uninstalled', async () => {
    const { portalId, dealId } = await dealWithAttachments();
    env.sandbox.control.revokePortal(Number(portalId));
    // The stored access token is still "fresh" locally; the sandbox refuses it and the
    // refresh token, which marks the connection needs_reconnect.
    const response = await cardGet(portalId, dealId);
    expect(response.status).toBe(200);
    const data = CardDataSchema.parse(response.body);
    expect(data).toMatchObject({ state: 'needs_reconnect', reason: 'needs_reconnect' });
    expect(keyShape(data)).toEqual(keyShape(cardNeedsReconnect));
    const row = await db
      .selectFrom('organization_integrations')
      .select('status')
      .where('external_account_id', '=', portalId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('needs_reconnect');
    // The next request knows without asking HubSpot.
    expect(CardDataSchema.parse((await cardGet(portalId, dealId)).body)).toMatchObject({
      state: 'needs_reconnect',
      reconnectUrl: `${env.baseUrl}/integrations`,
    });
  });

  it('answers the not-connected state for a portal no organization connected', async () => {
    const { portalId } = env.sandbox.control.createPortal({ name: 'Never connected' });
    env.sandbox.control.installApp(portalId);
    const deal = env.sandbox.control.createDeal(portalId, { dealname: 'Orphan' });
    const response = await cardGet(String(portalId), deal.id);
    expect(response.status).toBe(200);
    const data = CardDataSchema.parse(response.body);
    expect(data).toMatchObject({
      state: 'needs_reconnect',
      reason: 'not_connected',
      reconnectUrl: `${env.baseUrl}/api/v1/integrations/hubspot/auth`,
    });
    expect(keyShape(data)).toEqual(keyShape(cardNotConnected));
  });

  it('accepts a parameter appended to the signed query, and refuses malformed deal ids', async () => {
    const { portalId, dealId } = await dealWithAttachments();
    const extra = await env.sandbox.control.signedCardFetch({
      portalId: Number(portalId),
      userId: 7,
      userEmail: 'rep@example.com',
      method: 'GET',
      url: `${CARD}?dealId=${dealId}&organizationId=${randomUUID()}&hs_extra=1`,
    });
    expect(extra.status).toBe(200);
    expect(ready(extra.body).deal.id).toBe(dealId);
    const malformed = await cardGet(portalId, 'abc');
    expect(malformed.status).toBe(400);
    expect(ApiErrorSchema.parse(malformed.body).error.code).toBe('invalid_request');
  });
});

describe('signature checks on the card endpoints', () => {
  const secret = () => env.config.hubspot.clientSecret;

  function signedHeaders(
    method: string,
    uri: string,
    body: string,
    options: { secret?: string; timestamp?: number } = {},
  ) {
    const timestamp = String(options.timestamp ?? Date.now());
    return {
      [SIGNATURE_HEADERS.v3]: signV3({
        clientSecret: options.secret ?? secret(),
        method,
        uri,
        rawBody: body,
        timestamp,
      }),
      [SIGNATURE_HEADERS.timestamp]: timestamp,
    };
  }

  async function setup() {
    const { portalId, dealId } = await dealWithAttachments();
    const query = `dealId=${dealId}&userId=7&userEmail=rep%40example.com&appId=${env.config.hubspot.appId}&portalId=${portalId}`;
    return { portalId, dealId, uri: `${CARD}?${query}` };
  }

  it('accepts a correctly signed request made by hand (the control case)', async () => {
    const { uri } = await setup();
    const response = await fetch(uri, { headers: signedHeaders('GET', uri, '') });
    expect(response.status).toBe(200);
  });

  it('refuses an altered query string (another portal id than the one signed)', async () => {
    const { uri, portalId } = await setup();
    const other = await env.connectPortal();
    const headers = signedHeaders('GET', uri, '');
    const altered = uri.replace(`portalId=${portalId}`, `portalId=${other.portalId}`);
    const response = await fetch(altered, { headers });
    expect(response.status).toBe(401);
    expect(ApiErrorSchema.parse(await response.json()).error.code).toBe('invalid_signature');
  });

  it('accepts a signed query without appId or userEmail, and one with a parameter appended', async () => {
    const { portalId, dealId } = await setup();
    for (const query of [
      `dealId=${dealId}&userId=7&portalId=${portalId}`,
      `dealId=${dealId}&userId=7&userEmail=rep%40example.com&appId=${env.config.hubspot.appId}&portalId=${portalId}&hs_locale=en-us`,
    ]) {
      const uri = `${CARD}?${query}`;
      const response = await fetch(uri, { headers: signedHeaders('GET', uri, '') });
      expect(response.status).toBe(200);
    }
  });

  it('refuses a signed query without portalId or userId, or for another app', async () => {
    const { portalId, dealId } = await setup();
    const cases: [string, number, string][] = [
      [`dealId=${dealId}&userId=7`, 400, 'invalid_request'],
      [`dealId=${dealId}&portalId=${portalId}`, 400, 'invalid_request'],
      [`dealId=${dealId}&userId=7&portalId=${portalId}&appId=1`, 403, 'wrong_app'],
    ];
    for (const [query, status, code] of cases) {
      const uri = `${CARD}?${query}`;
      const response = await fetch(uri, { headers: signedHeaders('GET', uri, '') });
      expect(response.status).toBe(status);
      expect(ApiErrorSchema.parse(await response.json()).error.code).toBe(code);
    }
  });

  it('refuses a portalId changed after signing even with a parameter appended', async () => {
    const { portalId, dealId } = await setup();
    const other = await env.connectPortal();
    const uri = `${CARD}?dealId=${dealId}&userId=7&portalId=${portalId}&hs_extra=1`;
    const headers = signedHeaders('GET', uri, '');
    const altered = uri.replace(`portalId=${portalId}`, `portalId=${other.portalId}`);
    expect((await fetch(altered, { headers })).status).toBe(401);
  });

  it("replays a request the way `hs project dev`'s local proxy builds it", async () => {
    // @hubspot/ui-extensions-dev-server (AppProxyService, proxy/signing.js) forwards the
    // card's URL as written (mapped to local.json's origin), appends no portalId/userId/
    // userEmail/appId, and signs it with CLIENT_SECRET through @hubspot/api-client's
    // Signature (v2 and v3; the GET body signed as ''; the timestamp in milliseconds).
    const { dealId } = await setup();
    const url = `${CARD}?dealId=${dealId}`;
    const timestamp = Date.now();
    const signing = { url, requestBody: '', clientSecret: secret(), signature: '' };
    const response = await fetch(url, {
      headers: {
        'X-HubSpot-Signature': Signature.getSignature('GET', 'v2', signing),
        'X-HubSpot-Signature-Version': 'v2',
        'X-HubSpot-Request-Timestamp': String(timestamp),
        'X-HubSpot-Signature-v3': Signature.getSignature('GET', 'v3', { ...signing, timestamp }),
      },
    });
    // The signature verifies (not 401); without the caller's portal and user, the request
    // cannot be served: the limitation the README's "Developing the card" documents.
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(ApiErrorSchema.parse(JSON.parse(text)).error.code).toBe('invalid_request');
    expect(text).toContain('portalId');
  });

  it('refuses a request signed with another secret', async () => {
    const { uri } = await setup();
    const response = await fetch(uri, {
      headers: signedHeaders('GET', uri, '', { secret: 'not-the-client-secret' }),
    });
    expect(response.status).toBe(401);
  });

  it('refuses a stale timestamp', async () => {
    const { uri } = await setup();
    const response = await fetch(uri, {
      headers: signedHeaders('GET', uri, '', { timestamp: Date.now() - 6 * 60 * 1000 }),
    });
    expect(response.status).toBe(401);
  });

  it('refuses requests without the signature headers', async () => {
    const { uri } = await setup();
    expect((await fetch(uri)).status).toBe(401);
    const onlySignature = {
      [SIGNATURE_HEADERS.v3]: signedHeaders('GET', uri, '')[SIGNATURE_HEADERS.v3],
    };
    expect((await fetch(uri, { headers: onlySignature })).status).toBe(401);
  });

  it('refuses a send whose body was changed after signing, and creates nothing', async () => {
    const { portalId, dealId } = await setup();
    const uri = `${SEND}?userId=7&userEmail=rep%40example.com&appId=${env.config.hubspot.appId}&portalId=${portalId}`;
    const body = JSON.stringify({ dealId });
    const headers = { ...signedHeaders('POST', uri, body), 'content-type': 'application/json' };
    const response = await fetch(uri, {
      method: 'POST',
      headers,
      body: JSON.stringify({ dealId, newVersion: true }),
    });
    expect(response.status).toBe(401);
    expect(await dealContracts(portalId, dealId)).toEqual([]);
  });
});

describe('POST /api/v1/integrations/hubspot/card/send', () => {
  it('creates the contract, queues the import and answers with its summary', async () => {
    const { organizationId, portalId, dealId, fileIds } = await dealWithAttachments('Globex pilot');
    const response = await cardSend(portalId, {
      dealId,
      fileIds: [fileIds[0]],
      requestId: randomUUID(),
    });
    expect(response.status).toBe(200);
    const result = CardSendResultSchema.parse(response.body);
    expect(result.outcome).toBe('created');
    expect(result.contract).toMatchObject({
      title: 'Globex pilot',
      status: 'pending_review',
      importState: 'importing',
      url: `${env.baseUrl}/contracts/${result.contract.id}`,
    });
    expect(keyShape(result)).toEqual(keyShape(sendCreated));
    const contracts = await dealContracts(portalId, dealId);
    expect(contracts).toEqual([
      {
        id: result.contract.id,
        organization_id: organizationId,
        negotiation_status: 'pending_review',
      },
    ]);
    const outbox = await db
      .selectFrom('hubspot_deal_sync')
      .select(['desired_status', 'contract_id'])
      .where('portal_id', '=', portalId)
      .where('deal_id', '=', dealId)
      .executeTakeFirstOrThrow();
    expect(outbox).toEqual({ desired_status: 'importing', contract_id: result.contract.id });
    // The card's next load shows it as the open contract.
    const data = ready((await cardGet(portalId, dealId)).body);
    expect(data.openContractId).toBe(result.contract.id);
  });

  it('answers a retried request with the first answer and creates one contract', async () => {
    const { portalId, dealId } = await dealWithAttachments();
    const body = { dealId, newVersion: true, requestId: randomUUID() };
    // hubspot.fetch retries once after a 5xx or a dropped connection: the same body again,
    // possibly while the first is still running.
    const [first, second] = await Promise.all([cardSend(portalId, body), cardSend(portalId, body)]);
    const third = await cardSend(portalId, body);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    const id = CardSendResultSchema.parse(first.body).contract.id;
    expect(CardSendResultSchema.parse(second.body).contract.id).toBe(id);
    expect(third.body).toEqual(first.body);
    expect(await dealContracts(portalId, dealId)).toHaveLength(1);
  });

  it('returns the open contract on a repeated click and makes a new version only when asked', async () => {
    const { portalId, dealId } = await dealWithAttachments();
    const first = CardSendResultSchema.parse((await cardSend(portalId, { dealId })).body);
    const again = CardSendResultSchema.parse((await cardSend(portalId, { dealId })).body);
    expect(again.outcome).toBe('existing');
    expect(again.contract.id).toBe(first.contract.id);
    const version = CardSendResultSchema.parse(
      (await cardSend(portalId, { dealId, newVersion: true, requestId: randomUUID() })).body,
    );
    expect(version.outcome).toBe('new_version');
    expect(version.contract.id).not.toBe(first.contract.id);
    expect(await dealContracts(portalId, dealId)).toHaveLength(2);
  });

  it('refuses a request id reused by another user', async () => {
    const { portalId, dealId } = await dealWithAttachments();
    const requestId = randomUUID();
    expect((await cardSend(portalId, { dealId, requestId }, 7)).status).toBe(200);
    const reused = await cardSend(portalId, { dealId, newVersion: true, requestId }, 8);
    expect(reused.status).toBe(409);
    expect(ApiErrorSchema.parse(reused.body).error.code).toBe('idempotency_key_reused');
    expect(await dealContracts(portalId, dealId)).toHaveLength(1);
  });

  it('refuses a deal of another portal with a 404 and creates nothing', async () => {
    const mine = await env.connectPortal();
    const theirs = await dealWithAttachments();
    const response = await cardSend(mine.portalId, { dealId: theirs.dealId });
    expect(response.status).toBe(404);
    expect(response.body).toEqual(errorDealNotFound);
    expect(await dealContracts(mine.portalId, theirs.dealId)).toEqual([]);
    expect(await dealContracts(theirs.portalId, theirs.dealId)).toEqual([]);
  });

  it('takes the portal from the signed query, never from the body (strict body)', async () => {
    const mine = await dealWithAttachments();
    const response = await cardSend(mine.portalId, { dealId: mine.dealId, portalId: '1' });
    expect(response.status).toBe(400);
    expect(ApiErrorSchema.parse(response.body).error.code).toBe('invalid_request');
    expect(await dealContracts(mine.portalId, mine.dealId)).toEqual([]);
  });

  it('answers needs-reconnect (409) for an uninstalled portal and creates nothing', async () => {
    const { portalId, dealId } = await dealWithAttachments();
    env.sandbox.control.revokePortal(Number(portalId));
    const response = await cardSend(portalId, { dealId });
    expect(response.status).toBe(409);
    expect(ApiErrorSchema.parse(response.body).error.code).toBe(errorNeedsReconnect.error.code);
    expect(await dealContracts(portalId, dealId)).toEqual([]);
  });
});
