import { describe, expect, it } from 'vitest';

import {
  changeContractStatus,
  getContract,
} from '../../../../server/src/core/contracts/contracts-service.ts';
import { hubspotContractHooks } from '../../../../server/src/hubspot/legal-review/contract-hooks.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { hubspotContract } from '../sync/sync-fixtures.ts';

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
const control = env.sandbox.control;

/** A deal whose contract is in review. */
async function dealInReview() {
  const { organizationId, portalId } = await env.connectPortal();
  const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'Deal' });
  const contract = await hubspotContract(db, { organizationId, portalId, dealId });
  await changeContractStatus(
    db,
    { organizationId, contractId: contract.id, to: 'in_review', source: 'api', actor: 'test' },
    hubspotContractHooks(env.config, env.jobs),
  );
  return { organizationId, portalId, dealId, contractId: contract.id };
}

async function statusOf(organizationId: string, contractId: string) {
  return (await getContract(db, organizationId, contractId)).negotiationStatus;
}

/** Stored events that set the deal's status to cancelled (our own sync writes other values). */
async function storedCancellations(portalId: string, dealId: string) {
  return db
    .selectFrom('hubspot_webhook_events')
    .select(['subscription_type', 'property_value'])
    .where('portal_id', '=', portalId)
    .where('object_id', '=', dealId)
    .where('property_name', '=', 'lexicontract_status')
    .where('property_value', '=', 'cancelled')
    .execute();
}

describe('webhook events by object type', () => {
  it('a company event carrying a deal’s id changes nothing (generic and legacy forms)', async () => {
    const { organizationId, portalId, dealId, contractId } = await dealInReview();
    const deliveries = await control.deliverWebhookEvents([
      // Generic form: the object type is only in objectTypeId (0-2 is a company).
      {
        portalId: Number(portalId),
        objectId: dealId,
        subscriptionType: 'object.propertyChange',
        objectTypeId: '0-2',
        propertyName: 'lexicontract_status',
        propertyValue: 'cancelled',
      },
      // Legacy form of the same.
      {
        portalId: Number(portalId),
        objectId: dealId,
        subscriptionType: 'company.propertyChange',
        propertyName: 'lexicontract_status',
        propertyValue: 'cancelled',
      },
      {
        portalId: Number(portalId),
        objectId: dealId,
        subscriptionType: 'company.deletion',
      },
    ]);
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    expect(await storedCancellations(portalId, dealId)).toEqual([]);
    // A deal event after them is processed: had the company events been queued, they would
    // have been handled first.
    await control.deliverWebhookEvents([
      {
        portalId: Number(portalId),
        objectId: dealId,
        subscriptionType: 'object.propertyChange',
        objectTypeId: '0-3',
        propertyName: 'dealname',
        propertyValue: 'Renamed',
      },
    ]);
    await waitFor(async () => {
      const row = await db
        .selectFrom('hubspot_webhook_events')
        .select('outcome')
        .where('portal_id', '=', portalId)
        .where('object_id', '=', dealId)
        .where('property_name', '=', 'dealname')
        .executeTakeFirst();
      return row?.outcome === 'ignored';
    });
    expect(await statusOf(organizationId, contractId)).toBe('in_review');
  });

  it('a legacy deal.propertyChange event setting cancelled cancels the review', async () => {
    const { organizationId, portalId, dealId, contractId } = await dealInReview();
    const [delivery] = await control.deliverWebhookEvents([
      {
        portalId: Number(portalId),
        objectId: dealId,
        subscriptionType: 'deal.propertyChange',
        propertyName: 'lexicontract_status',
        propertyValue: 'cancelled',
      },
    ]);
    expect(delivery?.events[0]).not.toHaveProperty('objectTypeId');
    await waitFor(async () => (await statusOf(organizationId, contractId)) === 'cancelled');
  });

  it('a generic object.propertyChange event of a deal (0-3) setting cancelled cancels the review', async () => {
    const { organizationId, portalId, dealId, contractId } = await dealInReview();
    const [delivery] = await control.deliverWebhookEvents([
      {
        portalId: Number(portalId),
        objectId: dealId,
        subscriptionType: 'object.propertyChange',
        objectTypeId: '0-3',
        propertyName: 'lexicontract_status',
        propertyValue: 'cancelled',
      },
    ]);
    expect(delivery?.events[0]).toMatchObject({ objectTypeId: '0-3' });
    await waitFor(async () => (await statusOf(organizationId, contractId)) === 'cancelled');
  });
});
