import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import type { LexiContractStatusValue } from '../../server/src/hubspot/wire/status-property.ts';
import { enqueueDealSyncs } from '../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { MAX_SEND_ATTEMPTS } from '../../server/src/hubspot/outbox/portal-sync.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { BATCH_PATH, batchCallsOf, pgBossJobs, syncJobRuns } from './fault-helpers.ts';

/**
 * HubSpot answers 429 storms, 5xx, hangs longer than the request timeout, and is down
 * altogether for a while (every API and token call a 503). Afterwards every change is applied,
 * no job is left running (every call had a timeout), and each batch was tried at most
 * `MAX_SEND_ATTEMPTS` (6) times per job run before the job handed it back.
 */

const PORTALS = 3;
const DEALS_PER_PORTAL = 80;
const OUTAGE_MS = 15_000;

const database = await createTestDatabase();
const { db } = database;
const env = await startHubSpotTestEnv({ db });
const control = env.sandbox.control;

describe('fault drill: HubSpot 429 storms, 5xx, hangs and an outage', () => {
  it('applies everything afterwards with bounded retries and no hung job', async () => {
    const portals: Array<{ organizationId: string; portalId: string; dealIds: string[] }> = [];
    for (let i = 0; i < PORTALS; i += 1) {
      const { organizationId, portalId } = await env.connectPortal();
      const dealIds = Array.from(
        { length: DEALS_PER_PORTAL },
        (_, d) => control.createDeal(Number(portalId), { dealname: `Fault deal ${d}` }).id,
      );
      portals.push({ organizationId, portalId, dealIds });
    }
    const write = (status: LexiContractStatusValue) =>
      db.transaction().execute((trx) =>
        enqueueDealSyncs(
          trx,
          env.jobs,
          portals.flatMap(({ organizationId, portalId, dealIds }) =>
            dealIds.map((dealId) => ({
              organizationId,
              portalId,
              dealId,
              contractId: null,
              status,
              contractUrl: `${env.baseUrl}/contracts/fault-${dealId}-${status}`,
            })),
          ),
        ),
      );
    await env.startWorkers();

    // A full outage: every HubSpot API and OAuth call answers 503 for a while.
    const outage = control.injectFault({
      path: '^/(crm|oauth|files|automation)/',
      status: 503,
      count: 1_000_000,
    });
    expect(outage.id).toBeTruthy();
    await write('in_review');
    await waitFor(() => control.requestLog().filter((e) => e.fault).length >= PORTALS, {
      what: 'calls refused by the outage',
    });
    await sleep(OUTAGE_MS);
    control.clearFaults();
    // Then storms: 429s, every kind of 5xx, and hangs past the 10 s request timeout (the hung
    // request answers 503 when it finally does).
    control.injectFault({ path: BATCH_PATH, status: 429, count: 10 });
    for (const status of [500, 502, 503, 504] as const) {
      control.injectFault({ path: BATCH_PATH, status, count: 3 });
    }
    control.injectFault({ path: BATCH_PATH, hangMs: 12_000, status: 503, count: 3 });
    await write('approved');

    const lagging = () =>
      portals.flatMap(({ portalId, dealIds }) =>
        dealIds.filter((id) => {
          const deal = control.getDeal(Number(portalId), id);
          return (
            deal?.properties.lexicontract_status !== 'approved' ||
            deal.properties.lexicontract_contract_url !==
              `${env.baseUrl}/contracts/fault-${id}-approved`
          );
        }),
      );
    await waitFor(() => lagging().length === 0, {
      timeoutMs: 240_000,
      intervalMs: 500,
      what: 'every change applied after the faults',
    });
    await waitFor(
      async () => {
        const rows = await db
          .selectFrom('hubspot_deal_sync')
          .select(['state', 'claim_token'])
          .execute();
        return rows.length === PORTALS * DEALS_PER_PORTAL
          ? rows.every((r) => r.state === 'synced' && r.claim_token === null)
          : false;
      },
      { what: 'every outbox row synced and released' },
    );

    // The faults were really met.
    const faulted = control.requestLog().filter((e) => e.fault && e.path === BATCH_PATH);
    expect(faulted.filter((e) => e.status === 429).length).toBe(10);
    expect(new Set(faulted.map((e) => e.status))).toEqual(new Set([429, 500, 502, 503, 504]));

    // Bounded retries: one batch per portal at a time (≤ 100 deals), so a job run makes at
    // most 6 batch calls before it hands the batch back; job runs are bounded by the queue's
    // retry limit. (Faulted calls are answered before HubSpot knows the portal, so the bound
    // is checked over all portals together.)
    const batchCalls = control.requestLog().filter((e) => e.path === BATCH_PATH).length;
    let runs = 0;
    for (const { portalId } of portals) {
      expect(batchCallsOf(env.sandbox, portalId).some((c) => c.status === 200)).toBe(true);
      runs += await syncJobRuns(db, portalId);
    }
    expect(batchCalls).toBeLessThanOrEqual(MAX_SEND_ATTEMPTS * runs);
    // 2 writes × 3 portals, one retry per storm fault (25), and each portal giving up its
    // batch after 6 refusals a few times during the outage: nothing like unbounded retrying.
    expect(batchCalls).toBeLessThanOrEqual(2 * PORTALS + 25 + PORTALS * MAX_SEND_ATTEMPTS * 4);

    // No hung jobs: every sync and event job finishes (each call had a timeout).
    await waitFor(
      async () =>
        (await pgBossJobs(db, 'active')).filter((j) => j.name !== 'hubspot-sync-sweep').length ===
        0,
      { timeoutMs: 30_000, what: 'no active job left' },
    );
    expect(
      (await pgBossJobs(db, 'failed')).filter((j) => j.name === 'hubspot-sync-portal-deals'),
    ).toEqual([]);
  }, 360_000);
});
