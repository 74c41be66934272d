import { describe, expect, it } from 'vitest';

import {
  changeContractStatus,
  getContract,
} from '../../../../server/src/core/contracts/contracts-service.ts';
import { saveHubSpotSettings } from '../../../../server/src/hubspot/legal-review/settings-store.ts';
import { hubspotContractHooks } from '../../../../server/src/hubspot/legal-review/contract-hooks.ts';
import { SANDBOX_STAGE_IDS } from '../../../../sandbox/state.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { hubspotContract } from '../sync/sync-fixtures.ts';

/**
 * The settings page's closed-lost option (`closedLostBehavior`) decides what a deal moved to
 * a closed-lost stage does to its open contracts: `cancel_contract` (the default) cancels
 * them, `do_nothing` leaves them as they are. A deleted deal cancels them either way.
 */

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
const control = env.sandbox.control;

/** A deal with a contract in review, its status synced onto the deal. */
async function dealInReview(closedLostBehavior?: 'cancel_contract' | 'do_nothing') {
  const { organizationId, portalId } = await env.connectPortal();
  if (closedLostBehavior !== undefined) {
    await saveHubSpotSettings(
      db,
      organizationId,
      { closedLostBehavior, attachmentFilter: { mode: 'all' } },
      'test',
    );
  }
  const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'Closed-lost deal' });
  const contract = await hubspotContract(db, { organizationId, portalId, dealId });
  await changeContractStatus(
    db,
    { organizationId, contractId: contract.id, to: 'in_review', source: 'api', actor: 'test' },
    hubspotContractHooks(env.config, env.jobs),
  );
  await waitFor(
    () => control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status === 'in_review',
    { what: 'initial sync' },
  );
  return { organizationId, portalId, dealId, contractId: contract.id };
}

/** The outcome recorded for the deal's `dealstage` event, once it has been processed. */
async function stageOutcome(portalId: string, dealId: string): Promise<string | null> {
  let outcome: string | null = null;
  await waitFor(
    async () => {
      const row = await db
        .selectFrom('hubspot_webhook_events')
        .select(['outcome', 'processed_at'])
        .where('portal_id', '=', portalId)
        .where('object_id', '=', dealId)
        .where('property_name', '=', 'dealstage')
        .where('property_value', '=', SANDBOX_STAGE_IDS.closedLost)
        .executeTakeFirst();
      if (!row?.processed_at) return false;
      outcome = row.outcome;
      return true;
    },
    { what: 'the closed-lost event processed' },
  );
  return outcome;
}

async function statusOf(organizationId: string, contractId: string) {
  return (await getContract(db, organizationId, contractId)).negotiationStatus;
}

describe('closed-lost option', () => {
  it('cancels the open contract by default (no saved settings)', async () => {
    const deal = await dealInReview();
    await control.moveDealToStage(Number(deal.portalId), deal.dealId, SANDBOX_STAGE_IDS.closedLost);
    expect(await stageOutcome(deal.portalId, deal.dealId)).toBe('cancelled');
    expect(await statusOf(deal.organizationId, deal.contractId)).toBe('cancelled');
  });

  it('cancels the open contract when the option is cancel_contract', async () => {
    const deal = await dealInReview('cancel_contract');
    await control.moveDealToStage(Number(deal.portalId), deal.dealId, SANDBOX_STAGE_IDS.closedLost);
    expect(await stageOutcome(deal.portalId, deal.dealId)).toBe('cancelled');
    expect(await statusOf(deal.organizationId, deal.contractId)).toBe('cancelled');
  });

  it('leaves the contract open when the option is do_nothing', async () => {
    const deal = await dealInReview('do_nothing');
    await control.moveDealToStage(Number(deal.portalId), deal.dealId, SANDBOX_STAGE_IDS.closedLost);
    expect(await stageOutcome(deal.portalId, deal.dealId)).toBe('closed_lost_kept');
    expect(await statusOf(deal.organizationId, deal.contractId)).toBe('in_review');
    expect(
      control.getDeal(Number(deal.portalId), deal.dealId)?.properties.lexicontract_status,
    ).toBe('in_review');
  });

  it('do_nothing of one organization does not change another organization', async () => {
    const keep = await dealInReview('do_nothing');
    const cancel = await dealInReview();
    await control.moveDealToStage(Number(keep.portalId), keep.dealId, SANDBOX_STAGE_IDS.closedLost);
    await control.moveDealToStage(
      Number(cancel.portalId),
      cancel.dealId,
      SANDBOX_STAGE_IDS.closedLost,
    );
    expect(await stageOutcome(cancel.portalId, cancel.dealId)).toBe('cancelled');
    expect(await stageOutcome(keep.portalId, keep.dealId)).toBe('closed_lost_kept');
    expect(await statusOf(keep.organizationId, keep.contractId)).toBe('in_review');
    expect(await statusOf(cancel.organizationId, cancel.contractId)).toBe('cancelled');
  });

  it('a deleted deal still cancels its contract when the option is do_nothing', async () => {
    const deal = await dealInReview('do_nothing');
    control.deleteDeal(Number(deal.portalId), deal.dealId);
    await waitFor(
      async () => (await statusOf(deal.organizationId, deal.contractId)) === 'cancelled',
      { what: 'cancelled after deletion' },
    );
  });
});
