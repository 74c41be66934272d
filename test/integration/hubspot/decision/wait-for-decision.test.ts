import { describe, expect, it } from 'vitest';

import { changeContractStatus } from '../../../../server/src/core/contracts/contracts-service.ts';
import type { NegotiationStatus } from '../../../../server/src/core/contracts/status.ts';
import { hubspotContractHooks } from '../../../../server/src/hubspot/legal-review/contract-hooks.ts';
import { expireDecisionCallbacks } from '../../../../server/src/hubspot/legal-review/decision-callbacks.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { hubspotContract } from '../sync/sync-fixtures.ts';

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
const control = env.sandbox.control;
const actionUrl = () => `${env.baseUrl}/api/v1/integrations/hubspot/workflow/wait-for-decision`;

async function dealWithContract() {
  const { organizationId, portalId } = await env.connectPortal();
  const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'Deal' });
  const contract = await hubspotContract(db, { organizationId, portalId, dealId });
  const move = (to: NegotiationStatus) =>
    changeContractStatus(
      db,
      { organizationId, contractId: contract.id, to, source: 'api', actor: 'test' },
      hubspotContractHooks(env.config, env.jobs),
    );
  return { organizationId, portalId, dealId, contract, move };
}

describe('"Wait for legal decision" workflow action', () => {
  it('blocks until the contract is decided, then completes the callback with the decision', async () => {
    const { portalId, dealId, move, contract } = await dealWithContract();
    const result = await control.fireWorkflowAction(
      Number(portalId),
      dealId,
      { expiration_days: 3 },
      { actionUrl: actionUrl() },
    );
    expect(result.status).toBe(200);
    // HubSpot blocks one day longer than the wait: our own `timed_out` completion comes first.
    expect(result.body).toEqual({
      outputFields: { hs_execution_state: 'BLOCK', hs_expiration_duration: 'P4D' },
    });
    await move('in_review');
    await move('changes_requested');
    expect(control.callbackCompletions(result.callbackId)).toHaveLength(0);
    const { change } = await move('rejected');
    const [completion] = await waitFor(() => {
      const list = control.callbackCompletions(result.callbackId);
      return list.length > 0 ? list : undefined;
    });
    const decided = {
      decision: 'rejected',
      contract_url: `${env.baseUrl}/contracts/${contract.id}`,
      decided_by: 'test',
      decided_at: String(change.at.getTime()),
      hs_execution_state: 'SUCCESS',
    };
    expect(completion?.outputFields).toEqual(decided);
    // A retried execution (same callbackId) gets the same outcome and completes nothing twice.
    const replay = await control.fireWorkflowAction(
      Number(portalId),
      dealId,
      {},
      {
        actionUrl: actionUrl(),
        callbackId: result.callbackId,
      },
    );
    expect(replay.body).toEqual({ outputFields: decided });
    expect(control.callbackCompletions(result.callbackId)).toHaveLength(1);
  });

  it('completes at once when the contract is already decided', async () => {
    const { dealId, portalId, move, contract } = await dealWithContract();
    await move('in_review');
    const { change } = await move('approved');
    const result = await control.fireWorkflowAction(
      Number(portalId),
      dealId,
      {},
      {
        actionUrl: actionUrl(),
      },
    );
    expect(result.body).toEqual({
      outputFields: {
        decision: 'approved',
        contract_url: `${env.baseUrl}/contracts/${contract.id}`,
        decided_by: 'test',
        decided_at: String(change.at.getTime()),
        hs_execution_state: 'SUCCESS',
      },
    });
    await move('signed');
    expect(control.callbackCompletions(result.callbackId)).toHaveLength(0);
  });

  it('is idempotent on callbackId while waiting, and a cancellation is a decision', async () => {
    const { dealId, portalId, move } = await dealWithContract();
    const first = await control.fireWorkflowAction(
      Number(portalId),
      dealId,
      {},
      {
        actionUrl: actionUrl(),
      },
    );
    const again = await control.fireWorkflowAction(
      Number(portalId),
      dealId,
      {},
      {
        actionUrl: actionUrl(),
        callbackId: first.callbackId,
      },
    );
    expect(first.body).toEqual({
      outputFields: { hs_execution_state: 'BLOCK', hs_expiration_duration: 'P8D' },
    });
    expect(again.body).toEqual(first.body);
    const rows = await db
      .selectFrom('hubspot_decision_callbacks')
      .select('state')
      .where('portal_id', '=', portalId)
      .execute();
    expect(rows).toEqual([{ state: 'waiting' }]);
    await move('cancelled');
    await waitFor(() => control.callbackCompletions(first.callbackId).length === 1);
    expect(control.callbackCompletions(first.callbackId)[0]?.outputFields.decision).toBe(
      'cancelled',
    );
  });

  it('completes the wait with decision timed_out when the maximum wait passes, and answers a late retry the same', async () => {
    const { portalId, dealId, contract } = await dealWithContract();
    const first = await control.fireWorkflowAction(
      Number(portalId),
      dealId,
      {},
      { actionUrl: actionUrl() },
    );
    expect(first.body).toMatchObject({ outputFields: { hs_execution_state: 'BLOCK' } });
    await db
      .updateTable('hubspot_decision_callbacks')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('portal_id', '=', portalId)
      .where('callback_id', '=', first.callbackId)
      .execute();
    // What the sweep does every minute.
    expect(await expireDecisionCallbacks(db, env.jobs)).toBe(1);
    const [completion] = await waitFor(() => {
      const list = control.callbackCompletions(first.callbackId);
      return list.length > 0 ? list : undefined;
    });
    const timedOut = {
      decision: 'timed_out',
      contract_url: `${env.baseUrl}/contracts/${contract.id}`,
      hs_execution_state: 'SUCCESS',
    };
    expect(completion?.outputFields).toEqual(timedOut);
    const late = await control.fireWorkflowAction(
      Number(portalId),
      dealId,
      {},
      { actionUrl: actionUrl(), callbackId: first.callbackId },
    );
    expect(late.body).toEqual({ outputFields: timedOut });
    expect(control.callbackCompletions(first.callbackId)).toHaveLength(1);
  });

  it('answers a portal that is not connected with error_code not_connected', async () => {
    const { portalId, dealId } = await dealWithContract();
    await db
      .updateTable('organization_integrations')
      .set({ status: 'disconnected' })
      .where('integration_id', '=', 'hubspot')
      .where('external_account_id', '=', portalId)
      .execute();
    const result = await control.fireWorkflowAction(
      Number(portalId),
      dealId,
      {},
      { actionUrl: actionUrl() },
    );
    expect(result.body).toEqual({
      outputFields: { error_code: 'not_connected', hs_execution_state: 'FAIL_CONTINUE' },
    });
  });

  it('refuses an unsigned execution', async () => {
    const response = await fetch(actionUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ callbackId: 'x' }),
    });
    expect(response.status).toBe(401);
  });
});
