import { setTimeout as sleep } from 'node:timers/promises';

import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import type { LexiContractStatusValue } from '../../../../server/src/hubspot/wire/status-property.ts';
import { NEGOTIATION_STATUS_LABELS } from '../../../../server/src/hubspot/wire/status-property.ts';
import {
  enqueueDealSync,
  enqueueDealSyncs,
  type DealSyncRequest,
} from '../../../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { getSyncHealth } from '../../../../server/src/hubspot/outbox/health.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { batchCalls, status429 } from './sync-fixtures.ts';

/**
 * Coalescing over time: changes to the same deals that keep arriving while the sync worker
 * runs merge into one write per deal (a row is sent once it is quiet, or once it has waited
 * the maximum delay). Counts and final values are asserted, never wall time.
 */

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
const control = env.sandbox.control;
const STATUSES = Object.keys(NEGOTIATION_STATUS_LABELS) as LexiContractStatusValue[];

function dealStatus(portalId: string, dealId: string) {
  return control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status;
}

describe('deal sync coalescing over time', () => {
  it('changes to 500 deals in rounds spread over seconds → at most 15 calls, last values win', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const dealIds = Array.from(
      { length: 500 },
      (_, i) => control.createDeal(Number(portalId), { dealname: `Deal ${i}` }).id,
    );
    const expected = new Map<string, LexiContractStatusValue>();
    // 12 rounds, each changing every deal in its own transaction, ~300 ms apart: the sync
    // worker runs while the changes keep coming (as a burst of status changes would).
    for (let round = 0; round < 12; round += 1) {
      const requests: DealSyncRequest[] = dealIds.map((dealId, i) => {
        const status = STATUSES[(round + i) % STATUSES.length] ?? 'signed';
        expected.set(dealId, status);
        return { organizationId, portalId, dealId, contractId: null, status };
      });
      await db.transaction().execute((trx) => enqueueDealSyncs(trx, env.jobs, requests));
      await sleep(300);
    }
    await waitFor(
      () => [...expected].every(([dealId, status]) => dealStatus(portalId, dealId) === status),
      { timeoutMs: 50_000, intervalMs: 250, what: 'every deal at its last value' },
    );
    await waitFor(async () => (await getSyncHealth(db, organizationId)).pendingCount === 0);
    const calls = batchCalls(env.sandbox, portalId);
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(calls.length).toBeLessThanOrEqual(15);
    expect(status429(env.sandbox, portalId)).toBe(0);
    const rows = await db
      .selectFrom('hubspot_deal_sync')
      .select(['desired_status', 'synced_status', 'state'])
      .where('portal_id', '=', portalId)
      .execute();
    expect(rows).toHaveLength(500);
    expect(rows.every((r) => r.state === 'synced' && r.synced_status === r.desired_status)).toBe(
      true,
    );
  }, 60_000);

  it('a deal that never stops changing is still sent once it has waited the maximum delay', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const busy = control.createDeal(Number(portalId), { dealname: 'busy' }).id;
    const young = control.createDeal(Number(portalId), { dealname: 'young' }).id;
    await db.transaction().execute(async (trx) => {
      for (const [dealId, status] of [
        [busy, 'approved'],
        [young, 'signed'],
      ] as const) {
        await enqueueDealSync(trx, env.jobs, {
          organizationId,
          portalId,
          dealId,
          contractId: null,
          status,
        });
      }
      // `busy` changed a moment ago (never quiet) but has waited 10 s since its first unsent
      // change; `young` is as fresh as can be and stays so for this test.
      await sql`update hubspot_deal_sync
                   set updated_at = now() + interval '1 hour',
                       pending_since = now() - interval '10 seconds'
                 where portal_id = ${portalId} and deal_id = ${busy}`.execute(trx);
      await sql`update hubspot_deal_sync
                   set updated_at = now() + interval '1 hour',
                       pending_since = now() + interval '1 hour'
                 where portal_id = ${portalId} and deal_id = ${young}`.execute(trx);
    });
    await waitFor(() => dealStatus(portalId, busy) === 'approved', { what: 'busy deal sent' });
    expect(dealStatus(portalId, young)).toBeUndefined();
    const youngRow = await db
      .selectFrom('hubspot_deal_sync')
      .select(['state', 'claim_token'])
      .where('portal_id', '=', portalId)
      .where('deal_id', '=', young)
      .executeTakeFirstOrThrow();
    expect(youngRow).toEqual({ state: 'pending', claim_token: null });
    // Once it has been quiet for the batching window it goes out too.
    await sql`update hubspot_deal_sync
                 set updated_at = now() - interval '2 seconds', pending_since = now()
               where portal_id = ${portalId} and deal_id = ${young}`.execute(db);
    await waitFor(() => dealStatus(portalId, young) === 'signed', {
      timeoutMs: 30_000,
      what: 'young deal sent once quiet',
    });
    expect(batchCalls(env.sandbox, portalId)).toHaveLength(2);
  }, 60_000);
});
