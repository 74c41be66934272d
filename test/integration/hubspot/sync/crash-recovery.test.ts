import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import type { LexiContractStatusValue } from '../../../../server/src/hubspot/wire/status-property.ts';
import { enqueueDealSyncs } from '../../../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { TEST_KEYRING_VALUE } from '../../../helpers/test-app.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { BATCH_PATH, batchCalls } from './sync-fixtures.ts';

const database = await createTestDatabase();
const { db } = database;
const env = await startHubSpotTestEnv({ db });
const control = env.sandbox.control;
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A separate worker process (its own JobQueue and handlers) on the test database. */
async function startWorkerProcess(): Promise<ChildProcess> {
  const config: Record<string, unknown> = { ...env.config };
  delete config.tokenEncryptionKeys;
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./sync-worker-child.ts', import.meta.url))],
    {
      env: {
        ...process.env,
        SYNC_CHILD_CONFIG: JSON.stringify({
          databaseUrl: database.url,
          keyring: TEST_KEYRING_VALUE,
          config,
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => {
      reject(new Error(`worker exited early (${String(code)})`));
    });
  });
  return child;
}

describe('crash safety', () => {
  it('a SIGKILLed worker mid-sync loses nothing, its work resumes, and no stale write wins', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const dealIds = Array.from(
      { length: 2_000 },
      (_, i) => control.createDeal(Number(portalId), { dealname: `Deal ${i}` }).id,
    );
    const write = (status: LexiContractStatusValue) =>
      db.transaction().execute((trx) =>
        enqueueDealSyncs(
          trx,
          env.jobs,
          dealIds.map((dealId) => ({ organizationId, portalId, dealId, contractId: null, status })),
        ),
      );
    // Batches are slow, so the worker dies with requests in flight.
    control.injectFault({ path: BATCH_PATH, latencyMs: 2_500, count: 8 });
    const first = await startWorkerProcess();
    await write('in_review');
    await waitFor(
      async () => {
        const claimed = await db
          .selectFrom('hubspot_deal_sync')
          .select('deal_id')
          .where('portal_id', '=', portalId)
          .where('claim_token', 'is not', null)
          .limit(1)
          .execute();
        return claimed.length > 0;
      },
      { what: 'a claimed batch' },
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const killedAt = Date.now();
    // A newer value for every deal, while the dead worker's requests may still land.
    await write('approved');
    await startWorkerProcess();

    await waitFor(
      () =>
        dealIds.every(
          (id) =>
            control.getDeal(Number(portalId), id)?.properties.lexicontract_status === 'approved',
        ),
      { timeoutMs: 90_000, intervalMs: 500, what: 'every deal at its last value' },
    );
    const rows = await db
      .selectFrom('hubspot_deal_sync')
      .select(['state', 'synced_status'])
      .where('portal_id', '=', portalId)
      .execute();
    expect(rows.every((r) => r.state === 'synced' && r.synced_status === 'approved')).toBe(true);

    // No stale overwrite: in HubSpot's change history (the webhook events it emitted), no
    // deal went back to `in_review` after showing `approved`.
    await control.webhooksIdle();
    const changes = control
      .webhookDeliveries()
      .filter((d) => d.attempt === 0)
      .flatMap((d) => d.events)
      .filter((e) => e.portalId === Number(portalId) && e.propertyName === 'lexicontract_status');
    const lastByDeal = new Map<number, { at: number; value: string | undefined }>();
    for (const event of changes) {
      const previous = lastByDeal.get(event.objectId);
      if (!previous || event.occurredAt >= previous.at)
        lastByDeal.set(event.objectId, { at: event.occurredAt, value: event.propertyValue });
    }
    expect([...lastByDeal.values()].every((v) => v.value === 'approved')).toBe(true);
    // And in the request log, the last successful batch call came after the kill.
    const ok = batchCalls(env.sandbox, portalId).filter((c) => c.status === 200);
    expect(ok.at(-1)?.time ?? 0).toBeGreaterThan(killedAt);
  }, 120_000);
});
