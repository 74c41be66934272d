import { describe, expect, it } from 'vitest';

import {
  WebhookEventBatchSchema,
  WorkflowActionExecutionSchema,
} from '../../server/src/hubspot/wire/index.ts';
import { verifyV1, verifyV2, verifyV3 } from '../../server/src/hubspot/signature/index.ts';
import { SANDBOX_STAGE_IDS } from '../../sandbox/index.ts';
import { api, installedPortal, receiver, testSandbox, type Received } from './helpers.ts';

function header(req: Received, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function verifyAll(req: Received, secret: string, uri: string, primary: 'v1' | 'v2') {
  const v3 = verifyV3({
    clientSecret: secret,
    method: req.method,
    uri,
    rawBody: req.rawBody,
    signature: header(req, 'x-hubspot-signature-v3'),
    timestamp: header(req, 'x-hubspot-request-timestamp'),
    now: Date.now(),
  });
  const signature = header(req, 'x-hubspot-signature');
  const legacy =
    primary === 'v1'
      ? verifyV1({ clientSecret: secret, rawBody: req.rawBody, signature })
      : verifyV2({
          clientSecret: secret,
          method: req.method,
          uri,
          rawBody: req.rawBody,
          signature,
        });
  return { v3, legacy, version: header(req, 'x-hubspot-signature-version') };
}

describe('workflow action executions', () => {
  it('fires when a deal enters Legal Review, signed v2 and v3, with HubSpot’s payload', async () => {
    const app = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ outputFields: { hs_execution_state: 'BLOCK' } }));
    });
    const actionUrl = `${app.url}/api/v1/integrations/hubspot/webhook`;
    const sandbox = await testSandbox({ app: { actionUrl } });
    const { portalId } = installedPortal(sandbox);
    const deal = sandbox.control.createDeal(portalId, { dealname: 'Legal deal', amount: '5000' });

    const moved = await sandbox.control.moveDealToStage(
      portalId,
      deal.id,
      SANDBOX_STAGE_IDS.legalReview,
    );
    expect(moved.workflowAction?.status).toBe(200);
    expect(moved.workflowAction?.body).toEqual({ outputFields: { hs_execution_state: 'BLOCK' } });
    expect(app.received).toHaveLength(1);
    const req = app.received[0];
    if (!req) throw new Error('no request');
    const checks = verifyAll(req, sandbox.app.clientSecret, actionUrl, 'v2');
    expect(checks).toEqual({
      v3: { ok: true, version: 'v3' },
      legacy: { ok: true, version: 'v2' },
      version: 'v2',
    });
    expect(
      verifyV2({
        clientSecret: 'wrong',
        method: 'POST',
        uri: actionUrl,
        rawBody: req.rawBody,
        signature: header(req, 'x-hubspot-signature'),
      }).ok,
    ).toBe(false);
    const payload = WorkflowActionExecutionSchema.parse(JSON.parse(req.rawBody.toString()));
    expect(payload).toMatchObject({
      callbackId: moved.workflowAction?.callbackId,
      origin: { portalId, actionDefinitionId: 1_000_001 },
      context: { source: 'WORKFLOWS' },
      object: {
        objectId: Number(deal.id),
        objectType: 'DEAL',
        properties: {
          dealname: 'Legal deal',
          amount: '5000',
          dealstage: SANDBOX_STAGE_IDS.legalReview,
        },
      },
      inputFields: {},
    });

    // Other stages fire nothing; an explicit fire can choose the callbackId and inputs.
    await sandbox.control.moveDealToStage(portalId, deal.id, SANDBOX_STAGE_IDS.contractSent);
    expect(app.received).toHaveLength(1);
    const explicit = await sandbox.control.fireWorkflowAction(
      portalId,
      deal.id,
      { priority: 'urgent' },
      { callbackId: 'ap-replay-1' },
    );
    expect(explicit.callbackId).toBe('ap-replay-1');
    expect(
      WorkflowActionExecutionSchema.parse(JSON.parse(app.received[1]?.rawBody.toString() ?? ''))
        .inputFields,
    ).toEqual({
      priority: 'urgent',
    });
    expect(sandbox.control.workflowExecutions()).toHaveLength(2);
  });
});

describe('webhooks', () => {
  it('delivers property changes: app writes as INTEGRATION with sourceId = app id, UI edits as CRM_UI, v1 + v3 signed', async () => {
    const app = await receiver();
    const targetUrl = `${app.url}/api/v1/integrations/hubspot/events`;
    const sandbox = await testSandbox({ app: { webhookTargetUrl: targetUrl } });
    const { portalId, accessToken } = installedPortal(sandbox);
    const deal = sandbox.control.createDeal(portalId, { dealname: 'Webhook deal' });

    await api(sandbox, accessToken, 'PATCH', `/crm/objects/2026-03/deals/${deal.id}`, {
      properties: { dealname: 'Renamed' },
    });
    await sandbox.control.webhooksIdle();
    sandbox.control.editDealAsUser(portalId, deal.id, { amount: '42' });
    await sandbox.control.webhooksIdle();
    sandbox.control.deleteDeal(portalId, deal.id);
    await sandbox.control.webhooksIdle();

    expect(app.received).toHaveLength(3);
    for (const req of app.received) {
      expect(verifyAll(req, sandbox.app.clientSecret, targetUrl, 'v1')).toEqual({
        v3: { ok: true, version: 'v3' },
        legacy: { ok: true, version: 'v1' },
        version: 'v1',
      });
    }
    const [integration, ui, deletion] = app.received.map((r) =>
      WebhookEventBatchSchema.parse(JSON.parse(r.rawBody.toString())),
    );
    expect(integration).toEqual([
      expect.objectContaining({
        portalId,
        appId: 4242001,
        objectId: Number(deal.id),
        subscriptionType: 'object.propertyChange',
        propertyName: 'dealname',
        propertyValue: 'Renamed',
        changeSource: 'INTEGRATION',
        sourceId: '4242001',
        attemptNumber: 0,
      }),
    ]);
    expect(ui?.[0]).toMatchObject({
      propertyName: 'amount',
      propertyValue: '42',
      changeSource: 'CRM_UI',
    });
    expect(ui?.[0]?.sourceId).toMatch(/^userId:\d+$/);
    expect(deletion?.[0]).toMatchObject({
      subscriptionType: 'object.deletion',
      objectId: Number(deal.id),
    });
  });

  it('batches at most 100 events per delivery', async () => {
    const app = await receiver();
    const sandbox = await testSandbox({ app: { webhookTargetUrl: `${app.url}/events` } });
    const { portalId, accessToken } = installedPortal(sandbox);
    const ids = Array.from(
      { length: 75 },
      (_, i) => sandbox.control.createDeal(portalId, { dealname: `D${i}` }).id,
    );
    const update = await api(
      sandbox,
      accessToken,
      'POST',
      '/crm/objects/2026-03/deals/batch/update',
      {
        inputs: ids.map((id) => ({ id, properties: { dealname: `New ${id}`, amount: '1' } })),
      },
    );
    expect(update.status).toBe(200);
    await sandbox.control.webhooksIdle();
    const sizes = app.received.map(
      (r) => WebhookEventBatchSchema.parse(JSON.parse(r.rawBody.toString())).length,
    );
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(150);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
  });

  it('retries a batch after a 5xx and after a reply slower than the timeout', async () => {
    const app = await receiver((_req, res, index) => {
      if (index === 0) res.writeHead(500).end();
      else if (index === 1) setTimeout(() => res.writeHead(200).end(), 400);
      else res.writeHead(204).end();
    });
    const sandbox = await testSandbox({
      app: { webhookTargetUrl: `${app.url}/events` },
      webhooks: { timeoutMs: 150, retryDelayMs: 10 },
    });
    const { portalId } = installedPortal(sandbox);
    const deal = sandbox.control.createDeal(portalId, { dealname: 'Retry' });
    sandbox.control.editDealAsUser(portalId, deal.id, { dealname: 'Retried' });
    await sandbox.control.webhooksIdle();
    const deliveries = sandbox.control.webhookDeliveries();
    expect(deliveries.map((d) => [d.attempt, d.status, d.ok])).toEqual([
      [0, 500, false],
      [1, 0, false],
      [2, 204, true],
    ]);
    const attempts = app.received.map(
      (r) => WebhookEventBatchSchema.parse(JSON.parse(r.rawBody.toString()))[0]?.attemptNumber,
    );
    expect(attempts).toEqual([0, 1, 2]);
  });

  it('delivers on demand with duplicates and shuffled order', async () => {
    const app = await receiver();
    const sandbox = await testSandbox({ app: { webhookTargetUrl: `${app.url}/events` } });
    const { portalId } = installedPortal(sandbox);
    const events = Array.from({ length: 60 }, (_, i) => ({
      portalId,
      objectId: 1000 + i,
      propertyName: 'dealstage',
      propertyValue: SANDBOX_STAGE_IDS.closedLost,
      occurredAt: 1_700_000_000_000 + i,
    }));
    const records = await sandbox.control.deliverWebhookEvents(events, {
      duplicate: true,
      shuffle: true,
    });
    expect(records.map((r) => r.eventCount)).toEqual([100, 20]);
    const delivered = app.received.flatMap((r) =>
      WebhookEventBatchSchema.parse(JSON.parse(r.rawBody.toString())),
    );
    expect(delivered).toHaveLength(120);
    const counts = new Map<number, number>();
    for (const e of delivered) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
    const order = delivered.map((e) => e.occurredAt);
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
  });

  it('stops delivering after an uninstall', async () => {
    const app = await receiver();
    const sandbox = await testSandbox({ app: { webhookTargetUrl: `${app.url}/events` } });
    const { portalId } = installedPortal(sandbox);
    const deal = sandbox.control.createDeal(portalId, { dealname: 'Gone' });
    sandbox.control.revokePortal(portalId);
    sandbox.control.editDealAsUser(portalId, deal.id, { dealname: 'Nobody hears' });
    await sandbox.control.webhooksIdle();
    expect(app.received).toHaveLength(0);
  });
});

describe('card fetches', () => {
  it('appends userId, userEmail, appId, portalId and signs v3 over the full URL', async () => {
    const app = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const sandbox = await testSandbox({ app: { appBaseUrl: app.url } });
    const result = await sandbox.control.signedCardFetch({
      portalId: 123,
      userId: 456,
      userEmail: 'rep+1@acme.com',
      method: 'POST',
      url: `${app.url}/api/v1/integrations/hubspot/card/send?dealId=9`,
      body: { dealId: '9' },
    });
    expect(result).toMatchObject({ status: 200, body: { ok: true }, attempts: 1 });
    const req = app.received[0];
    if (!req) throw new Error('no request');
    const url = new URL(req.url, app.url);
    expect([...url.searchParams.keys()]).toEqual([
      'dealId',
      'userId',
      'userEmail',
      'appId',
      'portalId',
    ]);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      userId: '456',
      userEmail: 'rep+1@acme.com',
      appId: '4242001',
      portalId: '123',
    });
    expect(req.rawBody.toString()).toBe('{"dealId":"9"}');
    const verified = verifyV3({
      clientSecret: sandbox.app.clientSecret,
      method: 'POST',
      uri: `${app.url}${req.url}`,
      rawBody: req.rawBody,
      signature: header(req, 'x-hubspot-signature-v3'),
      timestamp: header(req, 'x-hubspot-request-timestamp'),
      now: Date.now(),
    });
    expect(verified).toEqual({ ok: true, version: 'v3' });
  });

  it('retries once on a 5xx like hubspot.fetch', async () => {
    const app = await receiver((_req, res, index) => {
      if (index === 0) res.writeHead(502).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"n":2}');
    });
    const sandbox = await testSandbox({ app: { appBaseUrl: app.url } });
    const result = await sandbox.control.signedCardFetch({
      portalId: 1,
      userId: 2,
      userEmail: 'a@b.c',
      method: 'GET',
      url: `${app.url}/api/v1/integrations/hubspot/card?dealId=1`,
    });
    expect(result).toMatchObject({ status: 200, attempts: 2, body: { n: 2 } });
  });

  it('signs calls to the app’s card and settings routes only, on the app base URL', async () => {
    const app = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const sandbox = await testSandbox({ app: { appBaseUrl: app.url } });
    const call = (url: string) =>
      sandbox.control.signedCardFetch({
        portalId: 1,
        userId: 2,
        userEmail: 'a@b.c',
        method: 'POST',
        url,
        body: {},
      });
    const other = await receiver((_req, res) => {
      res.writeHead(200).end();
    });
    for (const url of [
      `${app.url}/api/v1/integrations/hubspot/events`,
      `${app.url}/api/v1/integrations/hubspot/webhook`,
      `${app.url}/api/v1/integrations/hubspot/cardx`,
      `${app.url}/api/v1/integrations/hubspot/card/../events`,
      `${app.url}/api/v1/integrations/hubspot/card/%2e%2e/events`,
      `${app.url}/card`,
      `${other.url}/api/v1/integrations/hubspot/card`,
    ]) {
      await expect(call(url), url).rejects.toThrow(/card and settings routes only/);
    }
    expect(app.received).toHaveLength(0);
    expect(other.received).toHaveLength(0);
    await expect(
      call(`${app.url}/api/v1/integrations/hubspot/settings/options`),
    ).resolves.toMatchObject({ status: 200 });
  });
});
