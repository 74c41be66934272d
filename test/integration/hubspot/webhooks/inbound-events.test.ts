import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import {
  changeContractStatus,
  getContract,
} from '../../../../server/src/core/contracts/contracts-service.ts';
import {
  SIGNATURE_HEADERS,
  signV1,
  signV3,
} from '../../../../server/src/hubspot/signature/index.ts';
import { hubspotContractHooks } from '../../../../server/src/hubspot/legal-review/contract-hooks.ts';
import { getSyncHealth } from '../../../../server/src/hubspot/outbox/health.ts';
import { SANDBOX_STAGE_IDS } from '../../../../sandbox/state.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { batchCalls, hubspotContract } from '../sync/sync-fixtures.ts';

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
const control = env.sandbox.control;
const EVENTS_URL = () => `${env.baseUrl}/api/v1/integrations/hubspot/events`;

/** A deal with an imported contract moved to `status` and synced onto the deal. */
async function syncedDeal(status: 'in_review' | 'approved' = 'in_review') {
  const { organizationId, portalId } = await env.connectPortal();
  const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'Deal' });
  const contract = await hubspotContract(db, { organizationId, portalId, dealId });
  const hooks = hubspotContractHooks(env.config, env.jobs);
  await changeContractStatus(
    db,
    { organizationId, contractId: contract.id, to: 'in_review', source: 'api', actor: 'test' },
    hooks,
  );
  if (status === 'approved') {
    await changeContractStatus(
      db,
      { organizationId, contractId: contract.id, to: 'approved', source: 'api', actor: 'test' },
      hooks,
    );
  }
  await waitFor(() => dealValue(portalId, dealId) === status, { what: 'initial sync' });
  await settled(portalId);
  return { organizationId, portalId, dealId, contract };
}

function dealValue(portalId: string, dealId: string) {
  return control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status;
}

/** Webhook deliveries done and every stored event of the portal processed. */
async function settled(portalId: string) {
  await control.webhooksIdle();
  await waitFor(async () => {
    const row = await db
      .selectFrom('hubspot_webhook_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('portal_id', '=', portalId)
      .where('processed_at', 'is', null)
      .executeTakeFirstOrThrow();
    return row.n === 0;
  });
}

async function outcomes(portalId: string) {
  return db
    .selectFrom('hubspot_webhook_events')
    .select(['object_id', 'property_name', 'property_value', 'outcome', 'occurred_at'])
    .where('portal_id', '=', portalId)
    .orderBy('occurred_at')
    .orderBy('id')
    .execute();
}

async function statusOf(organizationId: string, contractId: string) {
  return (await getContract(db, organizationId, contractId)).negotiationStatus;
}

describe('POST /api/v1/integrations/hubspot/events', () => {
  it('refuses an unsigned delivery and a v1-only one (v3 is required)', async () => {
    const body = JSON.stringify([]);
    const unsigned = await fetch(EVENTS_URL(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);
    const v1 = await fetch(EVENTS_URL(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADERS.signature]: signV1({
          clientSecret: env.config.hubspot.clientSecret,
          rawBody: body,
        }),
        [SIGNATURE_HEADERS.version]: 'v1',
      },
      body,
    });
    expect(v1.status).toBe(401);
  });

  it('acknowledges events of unknown portals and stores nothing', async () => {
    const [delivery] = await control.deliverWebhookEvents([
      {
        portalId: 123_456_789,
        objectId: 1,
        propertyName: 'dealstage',
        propertyValue: 'closedlost',
      },
    ]);
    expect(delivery?.status).toBe(200);
    const stored = await db
      .selectFrom('hubspot_webhook_events')
      .select('id')
      .where('portal_id', '=', '123456789')
      .execute();
    expect(stored).toHaveLength(0);
  });

  it('the echo of our own write causes no new write', async () => {
    const { portalId, dealId } = await syncedDeal();
    const echoes = (await outcomes(portalId)).filter(
      (e) => e.property_name === 'lexicontract_status',
    );
    expect(echoes.length).toBeGreaterThan(0);
    expect(echoes.every((e) => e.outcome === 'echo')).toBe(true);
    const calls = batchCalls(env.sandbox, portalId).length;
    await settled(portalId);
    expect(batchCalls(env.sandbox, portalId)).toHaveLength(calls);
    expect(dealValue(portalId, dealId)).toBe('in_review');
  });

  it('a manual value is put back to the true status, with an audit row', async () => {
    const { organizationId, portalId, dealId, contract } = await syncedDeal();
    control.editDealAsUser(Number(portalId), dealId, { lexicontract_status: 'signed' });
    await waitFor(() => dealValue(portalId, dealId) === 'in_review', { what: 'revert' });
    await settled(portalId);
    expect(await statusOf(organizationId, contract.id)).toBe('in_review');
    const audit = await db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('organization_id', '=', organizationId)
      .where('action', '=', 'hubspot.deal_status_reverted')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.details).toMatchObject({
      manual_value: 'signed',
      restored_value: 'in_review',
    });
    // The revert's own echo changed nothing more.
    const health = await getSyncHealth(db, organizationId);
    expect(health.pendingCount).toBe(0);
    expect(health.lastInboundAt).toBeInstanceOf(Date);
  });

  it('`cancelled` set in HubSpot cancels the review', async () => {
    const { organizationId, portalId, dealId, contract } = await syncedDeal();
    control.editDealAsUser(Number(portalId), dealId, { lexicontract_status: 'cancelled' });
    await waitFor(async () => (await statusOf(organizationId, contract.id)) === 'cancelled');
    await settled(portalId);
    expect(dealValue(portalId, dealId)).toBe('cancelled');
    const detail = await db
      .selectFrom('contract_status_changes')
      .select(['source', 'to_status'])
      .where('contract_id', '=', contract.id)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(detail).toEqual({ source: 'hubspot_webhook', to_status: 'cancelled' });
  });

  it('a deal moved to closed lost cancels its open contract; closed won does not', async () => {
    const won = await syncedDeal();
    await control.moveDealToStage(Number(won.portalId), won.dealId, SANDBOX_STAGE_IDS.closedWon);
    await settled(won.portalId);
    expect(await statusOf(won.organizationId, won.contract.id)).toBe('in_review');

    const lost = await syncedDeal('approved');
    await control.moveDealToStage(Number(lost.portalId), lost.dealId, SANDBOX_STAGE_IDS.closedLost);
    await waitFor(
      async () => (await statusOf(lost.organizationId, lost.contract.id)) === 'cancelled',
    );
    await waitFor(() => dealValue(lost.portalId, lost.dealId) === 'cancelled');
  });

  it('a deleted deal cancels its open contract', async () => {
    const { organizationId, portalId, dealId, contract } = await syncedDeal();
    control.deleteDeal(Number(portalId), dealId);
    await waitFor(async () => (await statusOf(organizationId, contract.id)) === 'cancelled');
    // The sync of `cancelled` finds the deal gone and records it.
    await waitFor(async () => {
      const row = await db
        .selectFrom('hubspot_deal_sync')
        .select('state')
        .where('portal_id', '=', portalId)
        .where('deal_id', '=', dealId)
        .executeTakeFirstOrThrow();
      return row.state === 'gone';
    });
  });

  it('out-of-order and duplicated deliveries are harmless', async () => {
    const { organizationId, portalId, dealId, contract } = await syncedDeal();
    // Later than the echo of the initial sync, so these are the newest events of the deal.
    const t = Date.now();
    const records = await control.deliverWebhookEvents(
      [
        // Closed lost, then reopened: the later state wins whatever the delivery order.
        {
          portalId: Number(portalId),
          objectId: dealId,
          propertyName: 'dealstage',
          propertyValue: SANDBOX_STAGE_IDS.closedLost,
          occurredAt: t + 1000,
          changeSource: 'CRM_UI',
          sourceId: 'userId:1',
        },
        {
          portalId: Number(portalId),
          objectId: dealId,
          propertyName: 'dealstage',
          propertyValue: SANDBOX_STAGE_IDS.contractSent,
          occurredAt: t + 2000,
          changeSource: 'CRM_UI',
          sourceId: 'userId:1',
        },
        // A manual status edit, delivered twice.
        {
          portalId: Number(portalId),
          objectId: dealId,
          propertyName: 'lexicontract_status',
          propertyValue: 'approved',
          occurredAt: t + 3000,
          changeSource: 'CRM_UI',
          sourceId: 'userId:1',
        },
      ],
      { duplicate: true, shuffle: true },
    );
    expect(records.every((r) => r.status === 200)).toBe(true);
    await settled(portalId);
    // And the same delivery again, as HubSpot's retry would.
    const again = await control.deliverWebhookEvents([
      {
        portalId: Number(portalId),
        objectId: dealId,
        propertyName: 'lexicontract_status',
        propertyValue: 'approved',
        occurredAt: t + 3000,
        changeSource: 'CRM_UI',
        sourceId: 'userId:1',
        eventId: 1,
      },
    ]);
    expect(again[0]?.status).toBe(200);
    await settled(portalId);
    expect(await statusOf(organizationId, contract.id)).toBe('in_review');
    const stored = (await outcomes(portalId)).filter((e) => e.occurred_at >= t + 1000);
    // Duplicates in the first delivery were stored once (3 events + the replay with its own eventId).
    expect(stored.filter((e) => e.property_name === 'dealstage')).toHaveLength(2);
    const reverts = await db
      .selectFrom('audit_log')
      .select('id')
      .where('organization_id', '=', organizationId)
      .where('action', '=', 'hubspot.deal_status_reverted')
      .execute();
    expect(reverts.length).toBeGreaterThanOrEqual(1);
    await waitFor(() => dealValue(portalId, dealId) === 'in_review');
  });

  it('stores 100 events of one delivery and answers 200', async () => {
    const { portalId } = await env.connectPortal();
    const events = Array.from({ length: 100 }, (_, i) => ({
      portalId: Number(portalId),
      objectId: 900_000 + i,
      propertyName: 'lexicontract_status',
      propertyValue: 'approved',
    }));
    const [record] = await control.deliverWebhookEvents(events);
    expect(record).toMatchObject({ status: 200, eventCount: 100 });
    await settled(portalId);
    const stored = await outcomes(portalId);
    expect(stored).toHaveLength(100);
    expect(stored.every((e) => e.outcome === 'unknown_deal')).toBe(true);
  });

  it('stores each event once in one write: unknown portals ignored, duplicates and replays not stored again', async () => {
    const { portalId } = await env.connectPortal();
    const event = (objectId: number, eventId: number, portal = Number(portalId)) => ({
      eventId,
      subscriptionId: 7,
      portalId: portal,
      appId: Number(env.config.hubspot.appId),
      occurredAt: 1_700_000_000_000 + eventId,
      subscriptionType: 'object.propertyChange',
      attemptNumber: 0,
      objectId,
      objectTypeId: '0-3',
      propertyName: 'dealstage',
      propertyValue: 'appointmentscheduled',
      changeSource: 'CRM_UI',
    });
    // Two events of the portal, one repeated in the same delivery, one of an unknown portal.
    const body = JSON.stringify([event(1, 1), event(2, 2), event(1, 1), event(3, 3, 987_654_321)]);
    const post = async () => {
      const timestamp = String(Date.now());
      const response = await fetch(EVENTS_URL(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADERS.v3]: signV3({
            clientSecret: env.config.hubspot.clientSecret,
            method: 'POST',
            uri: EVENTS_URL(),
            rawBody: body,
            timestamp,
          }),
          [SIGNATURE_HEADERS.timestamp]: timestamp,
        },
        body,
      });
      return { status: response.status, body: await response.json() };
    };
    expect(await post()).toEqual({
      status: 200,
      body: { received: 4, stored: 2, ignored: 1, notDeal: 0 },
    });
    // HubSpot's retry of the same delivery (attemptNumber aside) stores nothing new.
    expect(await post()).toEqual({
      status: 200,
      body: { received: 4, stored: 0, ignored: 1, notDeal: 0 },
    });
    await settled(portalId);
    const stored = await outcomes(portalId);
    expect(stored.map((e) => e.object_id).sort()).toEqual(['1', '2']);
    expect(stored.every((e) => e.outcome === 'unknown_deal')).toBe(true);
  });

  it('answers 5xx when the events cannot be stored, so HubSpot retries', async () => {
    const { portalId } = await env.connectPortal();
    const body = JSON.stringify([
      {
        eventId: 1,
        subscriptionId: 2,
        portalId: Number(portalId),
        appId: Number(env.config.hubspot.appId),
        occurredAt: Date.now(),
        subscriptionType: 'object.propertyChange',
        attemptNumber: 0,
        objectId: 5,
        objectTypeId: '0-3',
        propertyName: 'dealstage',
        propertyValue: 'closedlost',
        changeSource: 'CRM_UI',
      },
    ]);
    const post = () => {
      const timestamp = String(Date.now());
      return fetch(EVENTS_URL(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADERS.v3]: signV3({
            clientSecret: env.config.hubspot.clientSecret,
            method: 'POST',
            uri: EVENTS_URL(),
            rawBody: body,
            timestamp,
          }),
          [SIGNATURE_HEADERS.timestamp]: timestamp,
        },
        body,
      });
    };
    await sql`alter table hubspot_webhook_events rename to hubspot_webhook_events_away`.execute(db);
    try {
      expect((await post()).status).toBeGreaterThanOrEqual(500);
    } finally {
      await sql`alter table hubspot_webhook_events_away rename to hubspot_webhook_events`.execute(
        db,
      );
    }
    expect((await post()).status).toBe(200);
  });
});
