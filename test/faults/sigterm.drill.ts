import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, describe, expect, it } from 'vitest';

import { findFreePort } from '../../server/src/platform/db/embedded.ts';
import { upsertOrganizationIntegration } from '../../server/src/core/integrations/organization-integrations.ts';
import { provisionPortal } from '../../server/src/hubspot/install/provisioning.ts';
import { REQUIRED_SCOPES } from '../../server/src/hubspot/install/scopes.ts';
import { enqueueDealSyncs } from '../../server/src/hubspot/outbox/deal-sync-outbox.ts';
import { createOrganization } from '../../server/src/core/organizations/organizations.ts';
import { startSandbox } from '../../sandbox/index.ts';
import { createTestJobQueue, TEST_KEYRING_VALUE, testConfig } from '../helpers/test-app.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  BATCH_PATH,
  EVENTS_PATH,
  exited,
  pgBossJobs,
  signedHeaders,
  spawnNodeChild,
  storedEventIds,
  webhookBatch,
} from './fault-helpers.ts';

/**
 * SIGTERM to the real app process (`node server/src/main.ts`, web and worker) while it
 * serves c=10 load (health checks and signed webhook batches) and syncs deals. Every request
 * the server accepted gets its complete response (none is reset), every acknowledged webhook
 * event is stored, the process exits 0 within 20 s, and it leaves no pg-boss job active and
 * no outbox row claimed.
 */

const CONCURRENCY = 10;
const EXIT_BOUND_MS = 20_000;
const DEALS = 400;

const database = await createTestDatabase();
const { db } = database;
const appPort = await findFreePort();
const baseUrl = `http://127.0.0.1:${String(appPort)}`;
const credentials = {
  clientId: `drill-${randomBytes(4).toString('hex')}`,
  clientSecret: randomBytes(24).toString('base64url'),
  appId: String(100_000 + Math.floor(Math.random() * 800_000)),
};
const sandbox = await startSandbox({
  app: {
    ...credentials,
    name: 'LexiContract (SIGTERM drill)',
    redirectUrls: [`${baseUrl}/api/v1/integrations/hubspot/callback`],
    requiredScopes: [...REQUIRED_SCOPES],
    actionUrl: `${baseUrl}/api/v1/integrations/hubspot/webhook`,
    webhookTargetUrl: `${baseUrl}${EVENTS_PATH}`,
  },
});
afterAll(async () => {
  await sandbox.close();
});
const hubspot = {
  sandbox: true,
  ...credentials,
  apiBaseUrl: sandbox.url,
  authorizeUrl: sandbox.authorizeUrl,
};
const keyring = testConfig().tokenEncryptionKeys;
const jobs = createTestJobQueue(db);

interface Outcome {
  readonly kind: 'health' | 'webhook';
  readonly sentAt: number;
  readonly doneAt: number;
  readonly status: number | 'connection_error';
  readonly eventIds: number[];
}

describe('fault drill: SIGTERM under load', () => {
  it('completes every accepted request, exits 0 within 20 s and leaves no job active', async () => {
    // A connected, provisioned portal with deals to sync.
    const { portalId: portalNumber } = sandbox.control.createPortal({ name: 'SIGTERM portal' });
    const portalId = String(portalNumber);
    const tokens = sandbox.control.installApp(portalNumber);
    const organization = await createOrganization(db, 'SIGTERM drill org');
    await upsertOrganizationIntegration(db, keyring, {
      organizationId: organization.id,
      integrationId: 'hubspot',
      externalAccountId: portalId,
      externalAccountName: `portal-${portalId}`,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      accessTokenExpiresAt: new Date(Date.now() + tokens.expires_in * 1000),
      grantedScopes: tokens.scopes ?? [...REQUIRED_SCOPES],
    });
    await provisionPortal({ db, keyring, hubspot }, portalId);
    const dealIds = Array.from(
      { length: DEALS },
      (_, i) => sandbox.control.createDeal(portalNumber, { dealname: `Deal ${i}` }).id,
    );

    // The real process, web and worker in one.
    const logLines: string[] = [];
    let partial = '';
    const app = await spawnNodeChild(
      fileURLToPath(new URL('../../server/src/main.ts', import.meta.url)),
      {
        readyText: 'LexiContract for HubSpot is running',
        env: {
          DATABASE_URL: database.url,
          PORT: String(appPort),
          HOST: '127.0.0.1',
          PUBLIC_BASE_URL: baseUrl,
          HUBSPOT_CLIENT_ID: credentials.clientId,
          HUBSPOT_CLIENT_SECRET: credentials.clientSecret,
          HUBSPOT_APP_ID: credentials.appId,
          HUBSPOT_API_BASE_URL: sandbox.url,
          HUBSPOT_AUTHORIZE_URL: sandbox.authorizeUrl,
          TOKEN_ENCRYPTION_KEYS: TEST_KEYRING_VALUE,
          SESSION_SECRET: randomBytes(32).toString('base64url'),
          // Request logs tell which requests the server accepted.
          LOG_LEVEL: 'info',
        },
        onStdout: (text) => {
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          logLines.push(...lines);
        },
      },
    );

    // An active sync: slow batches, so jobs are mid-call when SIGTERM comes.
    sandbox.control.injectFault({ path: BATCH_PATH, latencyMs: 1_500, count: 1_000_000 });
    await db.transaction().execute((trx) =>
      enqueueDealSyncs(
        trx,
        jobs,
        dealIds.map((dealId) => ({
          organizationId: organization.id,
          portalId,
          dealId,
          contractId: null,
          status: 'in_review' as const,
        })),
      ),
    );

    const eventsUrl = `${baseUrl}${EVENTS_PATH}`;
    const outcomes: Outcome[] = [];
    let loading = true;
    const client = async (index: number) => {
      for (let n = 0; loading; n += 1) {
        const kind = (index + n) % 2 === 0 ? 'health' : 'webhook';
        const batch = webhookBatch(portalId, credentials.appId, 10);
        const body = JSON.stringify(batch.events);
        const sentAt = Date.now();
        let status: Outcome['status'];
        try {
          const response =
            kind === 'health'
              ? await fetch(`${baseUrl}/healthz`)
              : await fetch(eventsUrl, {
                  method: 'POST',
                  headers: signedHeaders(credentials.clientSecret, eventsUrl, body),
                  body,
                });
          await response.arrayBuffer();
          status = response.status;
        } catch {
          status = 'connection_error';
          await sleep(20);
        }
        outcomes.push({
          kind,
          sentAt,
          doneAt: Date.now(),
          status,
          eventIds: kind === 'webhook' ? batch.ids : [],
        });
      }
    };
    const clients = Array.from({ length: CONCURRENCY }, (_, i) => client(i));

    await waitFor(
      async () =>
        (await pgBossJobs(db, 'active')).some((j) => j.name === 'hubspot-sync-portal-deals') &&
        sandbox.control.requestLog().some((e) => e.path === BATCH_PATH) &&
        outcomes.length >= 200,
      { timeoutMs: 30_000, what: 'load and an active sync job' },
    );
    app.kill('SIGTERM');
    const sigtermAt = Date.now();
    const exitCode = await Promise.race([
      exited(app),
      sleep(EXIT_BOUND_MS).then(() => 'still running after 20 s'),
    ]);
    loading = false;
    await Promise.all(clients);
    expect(exitCode).toBe(0);

    // Every request the server accepted before SIGTERM reached it was answered in full, with
    // a 200: the server logged each one's completion, and at least as many 200s reached the
    // clients (a reset would leave a client without its answer).
    const entries = logLines
      .filter((line) => line.startsWith('{'))
      .map(
        (line) =>
          JSON.parse(line) as {
            msg?: string;
            reqId?: string;
            time: number;
            res?: { statusCode?: number };
          },
      );
    const shutdownAt = entries.find((e) => e.msg === 'shutting down')?.time;
    expect(shutdownAt).toBeDefined();
    const acceptedBefore = entries.filter(
      (e) => e.msg === 'incoming request' && e.time < (shutdownAt ?? 0),
    );
    const completedOk = new Set(
      entries
        .filter((e) => e.msg === 'request completed' && e.res?.statusCode === 200)
        .map((e) => e.reqId),
    );
    expect(acceptedBefore.length).toBeGreaterThan(0);
    expect(acceptedBefore.filter((e) => !completedOk.has(e.reqId))).toEqual([]);
    const answeredOk = outcomes.filter((o) => o.status === 200);
    expect(answeredOk.length).toBeGreaterThanOrEqual(acceptedBefore.length);
    // Failures came only once shutdown began, and were refusals, never a wrong answer.
    expect(outcomes.filter((o) => o.status === 'connection_error' && o.doneAt < sigtermAt)).toEqual(
      [],
    );
    expect(
      outcomes.filter((o) => typeof o.status === 'number' && o.status !== 200 && o.status !== 503),
    ).toEqual([]);
    expect(outcomes.filter((o) => o.sentAt > sigtermAt).length).toBeGreaterThan(0);

    // Every acknowledged webhook event is stored.
    const stored = await storedEventIds(db, portalId);
    const acknowledged = outcomes
      .filter((o) => o.kind === 'webhook' && o.status === 200)
      .flatMap((o) => o.eventIds);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);

    // Nothing left locked by the exited process: no active job, no claimed outbox row.
    expect(await pgBossJobs(db, 'active')).toEqual([]);
    const claimed = await db
      .selectFrom('hubspot_deal_sync')
      .select('deal_id')
      .where('portal_id', '=', portalId)
      .where('claim_token', 'is not', null)
      .execute();
    expect(claimed).toEqual([]);
  }, 180_000);
});
