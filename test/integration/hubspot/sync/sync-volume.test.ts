import { Writable } from 'node:stream';

import pino from 'pino';
import { describe, expect, it } from 'vitest';

import type { LexiContractStatusValue } from '../../../../server/src/hubspot/wire/status-property.ts';
import { NEGOTIATION_STATUS_LABELS } from '../../../../server/src/hubspot/wire/status-property.ts';
import {
  enqueueDealSyncs,
  type DealSyncRequest,
} from '../../../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { getSyncHealth } from '../../../../server/src/hubspot/outbox/health.ts';
import { startWorkers } from '../../../../server/src/worker.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestJobQueue } from '../../../helpers/test-app.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { batchCalls, status429 } from './sync-fixtures.ts';

/**
 * Volume and rate: the sandbox enforces HubSpot's 110 requests per rolling 10 s per portal.
 * Counts are asserted, never wall time.
 */

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
const control = env.sandbox.control;
const STATUSES = Object.keys(NEGOTIATION_STATUS_LABELS) as LexiContractStatusValue[];

// Process A: the environment's queue. Process B: a second queue with its own handlers and a
// logger we can read, sharing only the database (as two worker processes would).
await env.startWorkers();
const linesB: string[] = [];
const jobsB = createTestJobQueue(db, { worker: true });
await startWorkers({
  config: env.config,
  db,
  jobs: jobsB,
  log: pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        linesB.push(chunk.toString());
        done();
      },
    }),
  ),
});

function createDeals(portalId: string, n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => control.createDeal(Number(portalId), { dealname: `Deal ${i}` }).id,
  );
}

async function allDealsShow(portalId: string, expected: ReadonlyMap<string, string>) {
  for (const [dealId, status] of expected) {
    if (control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status !== status)
      return false;
  }
  return true;
}

describe('sync volume under the 110 / 10 s limit', () => {
  it('10,000 changes on distinct deals → exactly 100 batch calls, zero 429s', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const dealIds = createDeals(portalId, 10_000);
    const expected = new Map(
      dealIds.map((id, i) => [id, STATUSES[i % STATUSES.length] ?? 'signed']),
    );
    await db.transaction().execute((trx) =>
      enqueueDealSyncs(
        trx,
        env.jobs,
        [...expected].map(([dealId, status]) => ({
          organizationId,
          portalId,
          dealId,
          contractId: null,
          status,
        })),
      ),
    );
    await waitFor(() => allDealsShow(portalId, expected), { timeoutMs: 50_000, intervalMs: 500 });
    await waitFor(async () => (await getSyncHealth(db, organizationId)).pendingCount === 0);
    expect(batchCalls(env.sandbox, portalId)).toHaveLength(100);
    expect(status429(env.sandbox, portalId)).toBe(0);
  }, 60_000);

  it('10,000 changes over 500 deals → at most 15 batch calls, every deal at its last value', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const dealIds = createDeals(portalId, 500);
    const expected = new Map<string, string>();
    await db.transaction().execute(async (trx) => {
      // 20 rounds of one change per deal = 10,000 changes, each bumping the deal's version.
      for (let round = 0; round < 20; round += 1) {
        const requests: DealSyncRequest[] = dealIds.map((dealId, i) => {
          const status = STATUSES[(round + i) % STATUSES.length] ?? 'signed';
          expected.set(dealId, status);
          return { organizationId, portalId, dealId, contractId: null, status };
        });
        await enqueueDealSyncs(trx, env.jobs, requests);
      }
    });
    await waitFor(() => allDealsShow(portalId, expected), { timeoutMs: 50_000, intervalMs: 250 });
    await waitFor(async () => (await getSyncHealth(db, organizationId)).pendingCount === 0);
    const calls = batchCalls(env.sandbox, portalId);
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(calls.length).toBeLessThanOrEqual(15);
    const versions = await db
      .selectFrom('hubspot_deal_sync')
      .select(['synced_status', 'desired_status', 'state'])
      .where('portal_id', '=', portalId)
      .execute();
    expect(
      versions.every((v) => v.state === 'synced' && v.synced_status === v.desired_status),
    ).toBe(true);
  }, 60_000);

  it('20,000 distinct deals through two worker processes: zero 429s, 200 calls', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const dealIds = createDeals(portalId, 20_000);
    const expected = new Map(
      dealIds.map((id, i) => [id, STATUSES[(i * 7) % STATUSES.length] ?? 'signed']),
    );
    const linesBefore = linesB.length;
    await db.transaction().execute((trx) =>
      enqueueDealSyncs(
        trx,
        env.jobs,
        [...expected].map(([dealId, status]) => ({
          organizationId,
          portalId,
          dealId,
          contractId: null,
          status,
        })),
      ),
    );
    await waitFor(() => allDealsShow(portalId, expected), { timeoutMs: 55_000, intervalMs: 500 });
    await waitFor(async () => (await getSyncHealth(db, organizationId)).pendingCount === 0);
    expect(status429(env.sandbox, portalId)).toBe(0);
    expect(batchCalls(env.sandbox, portalId)).toHaveLength(200);
    // A main and a helper job shared the portal (several requests in flight, one budget).
    const fromB = linesB
      .slice(linesBefore)
      .filter(
        (l) => l.includes('hubspot deal batch sent') && l.includes(`"portalId":"${portalId}"`),
      );
    expect(fromB.length).toBeLessThanOrEqual(200);
  }, 60_000);
});
