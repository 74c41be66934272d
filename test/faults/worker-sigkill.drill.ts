import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import type { LexiContractStatusValue } from '../../server/src/hubspot/wire/status-property.ts';
import { enqueueDealSyncs } from '../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { TEST_KEYRING_VALUE } from '../helpers/test-app.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  BATCH_PATH,
  batchCallsOf,
  exited,
  pick,
  propertyHistory,
  randomInt,
  spawnNodeChild,
} from './fault-helpers.ts';

/**
 * sync workers SIGKILLed at random moments while they sync. Two worker processes
 * (the crash test's `sync-worker-child.ts`) share one portal's outbox; a writer keeps changing
 * deals; ten times a random worker is killed while batches are claimed and in flight, and a
 * fresh one is started. Afterwards every deal shows its last intended value, HubSpot's
 * change history never goes back to an older value, and the work a kill interrupted was
 * picked up again within 90 s of that kill.
 */

const KILLS = 10;
const DEALS = 1_200;
const RESUME_BOUND_MS = 90_000;

const database = await createTestDatabase();
const { db } = database;
const env = await startHubSpotTestEnv({ db });
const control = env.sandbox.control;
const workerScript = fileURLToPath(
  new URL('../integration/hubspot/sync/sync-worker-child.ts', import.meta.url),
);

async function startWorker(): Promise<ChildProcess> {
  const config: Record<string, unknown> = { ...env.config };
  delete config.tokenEncryptionKeys;
  return spawnNodeChild(workerScript, {
    readyText: 'ready',
    env: {
      SYNC_CHILD_CONFIG: JSON.stringify({
        databaseUrl: database.url,
        keyring: TEST_KEYRING_VALUE,
        config,
      }),
    },
  });
}

const STATUSES: readonly LexiContractStatusValue[] = [
  'pending_review',
  'in_review',
  'changes_requested',
  'approved',
  'signed',
  'rejected',
];

/** The round a contract URL was written in: the drill's version of a deal's value. */
function roundOf(url: string): number {
  const match = /-r(\d+)$/.exec(url);
  if (!match?.[1]) throw new Error(`not a drill URL: ${url}`);
  return Number(match[1]);
}

describe('fault drill: sync workers SIGKILLed mid-sync', () => {
  it(`${String(KILLS)} kills at random moments: nothing lost, nothing stale, work resumes within 90 s`, async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const dealIds = Array.from(
      { length: DEALS },
      (_, i) => control.createDeal(Number(portalId), { dealname: `Drill deal ${i}` }).id,
    );
    const intended = new Map<string, { status: LexiContractStatusValue; url: string }>();
    let round = 0;
    const writeRound = async (deals: readonly string[]) => {
      round += 1;
      const requests = deals.map((dealId) => {
        const value = {
          status: pick(STATUSES),
          url: `${env.baseUrl}/contracts/drill-${dealId}-r${String(round)}`,
        };
        return { dealId, value };
      });
      await db.transaction().execute((trx) =>
        enqueueDealSyncs(
          trx,
          env.jobs,
          requests.map(({ dealId, value }) => ({
            organizationId,
            portalId,
            dealId,
            contractId: null,
            status: value.status,
            contractUrl: value.url,
          })),
        ),
      );
      // Recorded once committed: this is now the value the deal must end up with.
      for (const { dealId, value } of requests) intended.set(dealId, value);
    };

    // Batches take a while, so kills land with requests in flight (well within the lease).
    control.injectFault({ path: BATCH_PATH, latencyMs: 1_200, count: 1_000_000 });
    const workers = [await startWorker(), await startWorker()];
    await writeRound(dealIds);

    const load = { writing: true };
    let deadlocks = 0;
    const writer = (async () => {
      while (load.writing) {
        const subset = dealIds.filter(() => Math.random() < 0.25);
        try {
          await writeRound(subset);
        } catch (error) {
          // A deadlock between this multi-row upsert and a worker's claim/mark updates aborts
          // the round's transaction (nothing of it is recorded as intended); a caller retries.
          if ((error as { code?: string }).code !== '40P01') throw error;
          deadlocks += 1;
        }
        await sleep(randomInt(300, 1_500));
      }
    })();

    // Each settles to null, or to the error of a bound missed (checked at the end).
    const resumed: Array<Promise<unknown>> = [];
    const killTimes: number[] = [];
    for (let kill = 0; kill < KILLS; kill += 1) {
      await sleep(randomInt(2_000, 15_000));
      // Only kill mid-sync: some batch must be claimed (and so possibly in flight).
      await waitFor(
        async () => {
          const row = await db
            .selectFrom('hubspot_deal_sync')
            .select('deal_id')
            .where('portal_id', '=', portalId)
            .where('claim_token', 'is not', null)
            .where('claimed_until', '>', new Date())
            .limit(1)
            .executeTakeFirst();
          return row !== undefined;
        },
        { timeoutMs: 60_000, intervalMs: 25, what: 'a claimed batch to kill a worker under' },
      );
      const victimIndex = randomInt(0, workers.length - 1);
      const victim = workers[victimIndex];
      if (!victim) throw new Error('no worker');
      victim.kill('SIGKILL');
      expect(await exited(victim)).toBe('SIGKILL');
      const killedAt = Date.now();
      killTimes.push(killedAt);
      const inFlight = await db
        .selectFrom('hubspot_deal_sync')
        .select(['deal_id', 'claim_token'])
        .where('portal_id', '=', portalId)
        .where('claim_token', 'is not', null)
        .execute();
      // Every batch claimed at the kill (the dead worker's among them) is taken up again,
      // by a survivor, once its lease lapses: within 90 s of the kill.
      resumed.push(
        waitFor(
          async () => {
            const rows = await db
              .selectFrom('hubspot_deal_sync')
              .select(['deal_id', 'claim_token'])
              .where('portal_id', '=', portalId)
              .where(
                'deal_id',
                'in',
                inFlight.map((r) => r.deal_id),
              )
              .execute();
            const tokenAtKill = new Map(inFlight.map((r) => [r.deal_id, r.claim_token]));
            return rows.every((r) => r.claim_token !== tokenAtKill.get(r.deal_id));
          },
          {
            timeoutMs: killedAt + RESUME_BOUND_MS - Date.now(),
            intervalMs: 500,
            what: `the batches in flight at kill ${String(kill + 1)} to be taken up again`,
          },
        ).then(
          () => null,
          (error: unknown) => error,
        ),
      );
      workers[victimIndex] = await startWorker();
    }
    load.writing = false;
    await writer;
    const lastKill = killTimes.at(-1) ?? Date.now();

    // Zero lost updates: every deal ends at the last value written for it, and the outbox
    // knows it (a dead worker's write that landed unacknowledged is sent again, harmlessly).
    const outboxLagging = async () => {
      const rows = await db
        .selectFrom('hubspot_deal_sync')
        .select(['deal_id', 'state', 'synced_status', 'desired_contract_url'])
        .where('portal_id', '=', portalId)
        .execute();
      if (rows.length !== DEALS) return [`${String(rows.length)} outbox rows`];
      return rows
        .filter(
          (r) =>
            r.state !== 'synced' ||
            r.synced_status !== intended.get(r.deal_id)?.status ||
            r.desired_contract_url !== intended.get(r.deal_id)?.url,
        )
        .map((r) => r.deal_id);
    };
    const hubspotLagging = () =>
      dealIds.filter((id) => {
        const deal = control.getDeal(Number(portalId), id);
        const want = intended.get(id);
        return (
          want === undefined ||
          deal?.properties.lexicontract_status !== want.status ||
          deal.properties.lexicontract_contract_url !== want.url
        );
      });
    await waitFor(
      async () => hubspotLagging().length === 0 && (await outboxLagging()).length === 0,
      {
        timeoutMs: lastKill + RESUME_BOUND_MS - Date.now(),
        intervalMs: 500,
        what: 'every deal at its last intended value, in HubSpot and in the outbox',
      },
    ).catch(async (error: unknown) => {
      expect({ hubspot: hubspotLagging(), outbox: await outboxLagging() }).toEqual({
        hubspot: [],
        outbox: [],
      });
      throw error;
    });
    expect(await Promise.all(resumed)).toEqual(Array.from({ length: KILLS }, () => null));

    // No stale overwrite: in HubSpot's change history of each deal, the written versions
    // (the round in the contract URL) never go backwards.
    await control.webhooksIdle();
    const history = propertyHistory(env.sandbox, portalId, 'lexicontract_contract_url');
    expect(history.size).toBe(DEALS);
    const wentBack: string[] = [];
    for (const [dealId, values] of history) {
      const rounds = values.map(roundOf);
      if (rounds.some((r, i) => i > 0 && r < (rounds[i - 1] ?? 0))) wentBack.push(dealId);
      expect(values.at(-1)).toBe(intended.get(dealId)?.url);
    }
    expect(wentBack).toEqual([]);
    expect(round - deadlocks).toBeGreaterThan(KILLS);
    if (deadlocks > 0)
      process.stderr.write(`worker-sigkill drill: ${String(deadlocks)} writer deadlock(s)\n`);
    // The drill really synced through the kills: successful batches after the last one.
    expect(
      batchCallsOf(env.sandbox, portalId).filter((c) => c.status === 200 && c.time > lastKill)
        .length,
    ).toBeGreaterThan(0);
  }, 420_000);
});
