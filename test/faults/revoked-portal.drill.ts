import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import type { LexiContractStatusValue } from '../../server/src/hubspot/wire/status-property.ts';
import { enqueueDealSyncs } from '../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { BATCH_PATH } from './fault-helpers.ts';

/**
 * HubSpot revokes portal A's install mid-sync (API calls 401, refresh answers
 * BAD_REFRESH_TOKEN). A's connection goes `needs_reconnect` after at most 2 token calls, A's
 * jobs then make no HubSpot call at all (its changes wait, pending), and portal B's writes
 * all land.
 */

const DEALS = 400;

const database = await createTestDatabase();
const { db } = database;
const env = await startHubSpotTestEnv({ db });
const control = env.sandbox.control;

async function integrationStatus(portalId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('organization_integrations')
    .select('status')
    .where('integration_id', '=', 'hubspot')
    .where('external_account_id', '=', portalId)
    .executeTakeFirst();
  return row?.status;
}

describe('fault drill: a revoked portal', () => {
  it('pauses quickly after at most 2 token calls and leaves other portals unaffected', async () => {
    const a = await env.connectPortal({ name: 'Revoked portal' });
    const b = await env.connectPortal({ name: 'Healthy portal' });
    const deals = new Map(
      [a, b].map((p) => [
        p.portalId,
        Array.from(
          { length: DEALS },
          (_, i) => control.createDeal(Number(p.portalId), { dealname: `Deal ${i}` }).id,
        ),
      ]),
    );
    const write = (portal: typeof a, status: LexiContractStatusValue) =>
      db.transaction().execute((trx) =>
        enqueueDealSyncs(
          trx,
          env.jobs,
          (deals.get(portal.portalId) ?? []).map((dealId) => ({
            organizationId: portal.organizationId,
            portalId: portal.portalId,
            dealId,
            contractId: null,
            status,
          })),
        ),
      );
    // Slow batches, so A is revoked with its batches in flight.
    control.injectFault({ path: BATCH_PATH, latencyMs: 400, count: 1_000_000 });
    await env.startWorkers();
    await write(a, 'in_review');
    await write(b, 'in_review');
    await waitFor(
      () =>
        control
          .requestLog()
          .some((e) => e.path === BATCH_PATH && e.portalId === Number(a.portalId)),
      { what: "A's first batch" },
    );
    const tokenCallsBefore = control.tokenEndpointCalls().length;
    const revokedAt = Date.now();
    control.revokePortal(Number(a.portalId));
    // More changes for A, so A's sync certainly calls HubSpot after the revocation.
    await write(a, 'approved');

    // Paused quickly: needs_reconnect well within one sync batching window's worth of calls.
    await waitFor(async () => (await integrationStatus(a.portalId)) === 'needs_reconnect', {
      timeoutMs: 15_000,
      what: 'portal A marked needs_reconnect',
    });
    const refreshes = control.tokenEndpointCalls().slice(tokenCallsBefore);
    expect(refreshes.length).toBeGreaterThanOrEqual(1);
    expect(refreshes.length).toBeLessThanOrEqual(2);
    expect(refreshes.every((c) => c.grantType === 'refresh_token' && c.status >= 400)).toBe(true);

    // B is unaffected: all its writes land, and it stays connected.
    await write(b, 'approved');
    await waitFor(
      () =>
        (deals.get(b.portalId) ?? []).every(
          (id) =>
            control.getDeal(Number(b.portalId), id)?.properties.lexicontract_status === 'approved',
        ),
      { timeoutMs: 90_000, intervalMs: 250, what: "all of B's writes" },
    );
    expect(await integrationStatus(b.portalId)).toBe('connected');
    // The deal shows the value once HubSpot applied the batch; the row is marked synced when
    // its answer is processed, a moment later.
    await waitFor(
      async () =>
        (
          await db
            .selectFrom('hubspot_deal_sync')
            .select('state')
            .where('portal_id', '=', b.portalId)
            .execute()
        ).every((r) => r.state === 'synced'),
      { timeoutMs: 30_000, intervalMs: 250, what: "B's outbox rows marked synced" },
    );

    // A's jobs make no HubSpot call any more: not for the changes waiting, nor for new ones.
    const callsOfA = () => ({
      // A revoked token's calls are refused before HubSpot knows the portal: 401s.
      unauthorized: control.requestLog().filter((e) => e.status === 401 && e.time >= revokedAt)
        .length,
      attributed: control
        .requestLog()
        .filter((e) => e.portalId === Number(a.portalId) && e.time >= revokedAt && !e.fault).length,
      tokens: control.tokenEndpointCalls().length,
    });
    const settled = callsOfA();
    const jobsBefore = await sql<{ n: number }>`
      select count(*)::int as n from pgboss.job
       where name = 'hubspot-sync-portal-deals' and data->>'portalId' = ${a.portalId}
         and state = 'completed'
    `.execute(db);
    await write(a, 'signed');
    await waitFor(
      async () => {
        const done = await sql<{ n: number }>`
          select count(*)::int as n from pgboss.job
           where name = 'hubspot-sync-portal-deals' and data->>'portalId' = ${a.portalId}
             and state = 'completed'
        `.execute(db);
        return (done.rows[0]?.n ?? 0) > (jobsBefore.rows[0]?.n ?? 0);
      },
      { timeoutMs: 30_000, what: "A's next sync job to run (and pause)" },
    );
    expect(callsOfA()).toEqual(settled);
    // In-flight lanes of A at the revocation each got at most one 401.
    expect(settled.unauthorized).toBeLessThanOrEqual(8);
    // A's changes are kept, waiting for a reconnect.
    const aRows = await db
      .selectFrom('hubspot_deal_sync')
      .select(['state', 'desired_status'])
      .where('portal_id', '=', a.portalId)
      .execute();
    expect(aRows).toHaveLength(DEALS);
    expect(aRows.every((r) => r.state === 'pending' && r.desired_status === 'signed')).toBe(true);
  }, 180_000);
});
