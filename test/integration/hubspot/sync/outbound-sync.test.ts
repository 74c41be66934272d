import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { changeContractStatus } from '../../../../server/src/core/contracts/contracts-service.ts';
import {
  findIntegrationByExternalAccount,
  markIntegrationStatus,
} from '../../../../server/src/core/integrations/organization-integrations.ts';
import type { LexiContractStatusValue } from '../../../../server/src/hubspot/wire/status-property.ts';
import { hubspotContractHooks } from '../../../../server/src/hubspot/legal-review/contract-hooks.ts';
import { enqueueDealSync } from '../../../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { getSyncHealth, retryFailedSyncs } from '../../../../server/src/hubspot/outbox/health.ts';
import { resumePortalSync } from '../../../../server/src/hubspot/outbox/portal-sync.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { batchCalls, hubspotContract, status429 } from './sync-fixtures.ts';
import { hubspotPaths } from '../../../../server/src/hubspot/wire/api-versions.ts';

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
const control = env.sandbox.control;

async function dealStatus(portalId: string, dealId: string) {
  return control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status ?? null;
}

async function outboxRow(portalId: string, dealId: string) {
  return db
    .selectFrom('hubspot_deal_sync')
    .selectAll()
    .where('portal_id', '=', portalId)
    .where('deal_id', '=', dealId)
    .executeTakeFirstOrThrow();
}

describe('LexiContract → HubSpot status sync', () => {
  it('a status change reaches the deal with the contract link, in one batch call', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'Acme renewal' });
    const contract = await hubspotContract(db, { organizationId, portalId, dealId });
    await changeContractStatus(
      db,
      { organizationId, contractId: contract.id, to: 'in_review', source: 'api', actor: 'test' },
      hubspotContractHooks(env.config, env.jobs),
    );
    await waitFor(async () => (await dealStatus(portalId, dealId)) === 'in_review', {
      what: 'deal status',
    });
    const deal = control.getDeal(Number(portalId), dealId);
    expect(deal?.properties.lexicontract_contract_url).toBe(
      `${env.baseUrl}/contracts/${contract.id}`,
    );
    await waitFor(async () => (await outboxRow(portalId, dealId)).state === 'synced');
    const row = await outboxRow(portalId, dealId);
    expect(row.synced_status).toBe('in_review');
    expect(row.claim_token).toBeNull();
    expect(batchCalls(env.sandbox, portalId)).toHaveLength(1);
    const health = await getSyncHealth(db, organizationId);
    expect(health.pendingCount).toBe(0);
    expect(health.lastOutboundAt).toBeInstanceOf(Date);
  });

  it('sends the report properties in the same input as the status, once the portal is set up', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const hooks = hubspotContractHooks(env.config, env.jobs);
    const dealIds = [0, 1].map(
      (i) => control.createDeal(Number(portalId), { dealname: `Report ${String(i)}` }).id,
    );
    // A portal whose setup has not run again since the report properties came (migration
    // 0014 marks such portals pending): its status still syncs, without them.
    await db
      .updateTable('organization_integrations')
      .set({ provisioning_status: 'pending' })
      .where('external_account_id', '=', portalId)
      .execute();
    const first = await hubspotContract(db, { organizationId, portalId, dealId: dealIds[0] ?? '' });
    await changeContractStatus(
      db,
      { organizationId, contractId: first.id, to: 'in_review', source: 'api', actor: 'test' },
      hooks,
    );
    await waitFor(async () => (await dealStatus(portalId, dealIds[0] ?? '')) === 'in_review');
    expect(
      control.getDeal(Number(portalId), dealIds[0] ?? '')?.properties.lexicontract_submitted_at,
    ).toBeUndefined();

    await db
      .updateTable('organization_integrations')
      .set({ provisioning_status: 'done' })
      .where('external_account_id', '=', portalId)
      .execute();
    const since = Date.now();
    const second = await hubspotContract(db, {
      organizationId,
      portalId,
      dealId: dealIds[1] ?? '',
    });
    await changeContractStatus(
      db,
      { organizationId, contractId: second.id, to: 'rejected', source: 'api', actor: 'test' },
      hooks,
    );
    await waitFor(async () => (await dealStatus(portalId, dealIds[1] ?? '')) === 'rejected');
    expect(control.getDeal(Number(portalId), dealIds[1] ?? '')?.properties).toMatchObject({
      lexicontract_decision: 'rejected',
      lexicontract_reviewer: 'test',
      lexicontract_submitted_at: second.createdAt.toISOString(),
      lexicontract_open_contracts: '0',
    });
    // One call, one input: the status and the report ride together.
    expect(batchCalls(env.sandbox, portalId, since)).toHaveLength(1);
  });

  it('records a deleted deal as gone and a refused value as failed; the rest of the batch lands', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const ok = control.createDeal(Number(portalId), { dealname: 'ok' }).id;
    const deleted = control.createDeal(Number(portalId), { dealname: 'deleted' }).id;
    const refused = control.createDeal(Number(portalId), { dealname: 'refused' }).id;
    control.deleteDeal(Number(portalId), deleted);
    await db.transaction().execute(async (trx) => {
      for (const [dealId, status] of [
        [ok, 'approved'],
        [deleted, 'approved'],
        [refused, 'not_a_status'],
      ] as const) {
        await enqueueDealSync(trx, env.jobs, {
          organizationId,
          portalId,
          dealId,
          contractId: null,
          status: status as LexiContractStatusValue,
        });
      }
    });
    await waitFor(async () => {
      const rows = await db
        .selectFrom('hubspot_deal_sync')
        .select(['deal_id', 'state'])
        .where('portal_id', '=', portalId)
        .execute();
      return rows.every((r) => r.state !== 'pending') ? rows : undefined;
    });
    expect(await dealStatus(portalId, ok)).toBe('approved');
    expect(await outboxRow(portalId, ok)).toMatchObject({ state: 'synced' });
    expect(await outboxRow(portalId, deleted)).toMatchObject({
      state: 'gone',
      failure_cause: 'deal_not_found',
    });
    const failed = await outboxRow(portalId, refused);
    expect(failed.state).toBe('failed');
    expect(failed.failure_cause).toBe('validation_error');
    expect(await dealStatus(portalId, refused)).toBeNull();

    const health = await getSyncHealth(db, organizationId);
    expect(health.failedCount).toBe(2);
    expect(health.failuresByCause).toEqual(
      expect.arrayContaining([
        { cause: 'deal_not_found', count: 1 },
        { cause: 'validation_error', count: 1 },
      ]),
    );
    expect(health.failedDeals.map((d) => d.dealId).sort()).toEqual([deleted, refused].sort());

    // Nothing retries them on its own: no further batch call for those deals.
    const calls = batchCalls(env.sandbox, portalId).length;
    await resumePortalSync(db, env.jobs, portalId);
    await waitFor(async () => (await outboxRow(portalId, ok)).state === 'synced');
    expect(batchCalls(env.sandbox, portalId)).toHaveLength(calls);

    // "Retry now" requeues the failed one (not the gone one); it fails again for the same cause.
    expect(await retryFailedSyncs(db, env.jobs, organizationId)).toEqual({ retried: 1 });
    await waitFor(async () => (await outboxRow(portalId, refused)).state === 'failed');
    expect(batchCalls(env.sandbox, portalId).length).toBeGreaterThan(calls);
    expect((await outboxRow(portalId, deleted)).state).toBe('gone');
  });

  it('429, 5xx and a hung request are retried and everything lands', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const dealIds = Array.from(
      { length: 5 },
      (_, i) => control.createDeal(Number(portalId), { dealname: `d${i}` }).id,
    );
    control.injectFault({ path: hubspotPaths.dealsBatchUpdate(), status: 429 });
    control.injectFault({ path: hubspotPaths.dealsBatchUpdate(), status: 503 });
    control.injectFault({ path: hubspotPaths.dealsBatchUpdate(), hangMs: 12_000 });
    await db.transaction().execute(async (trx) => {
      for (const dealId of dealIds) {
        await enqueueDealSync(trx, env.jobs, {
          organizationId,
          portalId,
          dealId,
          contractId: null,
          status: 'signed',
        });
      }
    });
    await waitFor(
      async () => {
        for (const dealId of dealIds)
          if ((await dealStatus(portalId, dealId)) !== 'signed') return false;
        return true;
      },
      { timeoutMs: 50_000, what: 'all deals signed' },
    );
    // The faults answered before authentication; the one real call succeeded.
    expect(batchCalls(env.sandbox, portalId).filter((c) => c.status === 200)).toHaveLength(1);
    expect(status429(env.sandbox, portalId)).toBe(0);
    await waitFor(async () => (await getSyncHealth(db, organizationId)).pendingCount === 0, {
      timeoutMs: 50_000,
      what: 'no pending rows',
    });
  }, 60_000);

  it('never overwrites a newer value with an older one', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'race' });
    // The first batch is slow; a newer value arrives while it is in flight.
    control.injectFault({ path: hubspotPaths.dealsBatchUpdate(), latencyMs: 1_500 });
    await db.transaction().execute((trx) =>
      enqueueDealSync(trx, env.jobs, {
        organizationId,
        portalId,
        dealId,
        contractId: null,
        status: 'in_review',
      }),
    );
    await waitFor(async () => (await outboxRow(portalId, dealId)).claim_token !== null);
    await db.transaction().execute((trx) =>
      enqueueDealSync(trx, env.jobs, {
        organizationId,
        portalId,
        dealId,
        contractId: null,
        status: 'approved',
      }),
    );
    await waitFor(async () => (await outboxRow(portalId, dealId)).state === 'synced', {
      timeoutMs: 20_000,
    });
    const row = await outboxRow(portalId, dealId);
    expect(row.synced_status).toBe('approved');
    expect(await dealStatus(portalId, dealId)).toBe('approved');
    expect(batchCalls(env.sandbox, portalId)).toHaveLength(2);
  });

  it('pauses a portal that needs reconnecting: rows stay pending, and resume after reconnect', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'paused' });
    const integration = await findIntegrationByExternalAccount(db, 'hubspot', portalId);
    if (!integration) throw new Error('no integration');
    await markIntegrationStatus(db, integration.id, 'needs_reconnect', 'test');
    await db.transaction().execute((trx) =>
      enqueueDealSync(trx, env.jobs, {
        organizationId,
        portalId,
        dealId,
        contractId: null,
        status: 'rejected',
      }),
    );
    // The job runs, finds the portal paused and ends; nothing is sent, nothing retries.
    await waitFor(async () => {
      const { rows: jobs } = await sql<{ state: string }>`
        select state from pgboss.job
         where name = 'hubspot-sync-portal-deals' and singleton_key = ${portalId}
      `.execute(db);
      return jobs.length > 0 && jobs.every((j) => j.state === 'completed');
    });
    expect(batchCalls(env.sandbox, portalId)).toHaveLength(0);
    expect((await outboxRow(portalId, dealId)).state).toBe('pending');

    await markIntegrationStatus(db, integration.id, 'connected');
    await resumePortalSync(db, env.jobs, portalId);
    await waitFor(async () => (await dealStatus(portalId, dealId)) === 'rejected');
  });
});
