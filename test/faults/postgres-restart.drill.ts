import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { buildApp } from '../../server/src/app.ts';
import { createDatabase, type DatabaseHandle } from '../../server/src/platform/db/database.ts';
import {
  findFreePort,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from '../../server/src/platform/db/embedded.ts';
import { migrateToLatest } from '../../server/src/platform/db/migrate.ts';
import { upsertOrganizationIntegration } from '../../server/src/core/integrations/organization-integrations.ts';
import { JobQueue } from '../../server/src/platform/jobs/queue.ts';
import { createOrganization } from '../../server/src/core/organizations/organizations.ts';
import { withDatabase } from '../setup/global-setup.ts';
import { testConfig } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { EVENTS_PATH, signedHeaders, storedEventIds, webhookBatch } from './fault-helpers.ts';

/**
 * Postgres restarts while HubSpot delivers webhooks at c=10. The drill runs a Postgres
 * server of its own on a fixed port, stops it mid-load and starts it again on the same port.
 * Every event the app acknowledged with a 2xx is stored afterwards; every failed delivery got
 * a 5xx or a connection error (so HubSpot retries it), never a 2xx; and the same app process
 * answers 2xx again within 10 s of Postgres being back.
 */

const CONCURRENCY = 10;
const EVENTS_PER_BATCH = 20;
const BACK_BOUND_MS = 10_000;

const tempDir = await mkdtemp(path.join(os.tmpdir(), 'lexicontract-drill-pg-'));
const dataDir = path.join(tempDir, 'data');
const pgPort = await findFreePort();
let server: EmbeddedPostgresHandle | undefined = await startEmbeddedPostgres({
  dir: dataDir,
  port: pgPort,
});
const adminUrl = server.url;
{
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query('create database drill');
  await admin.end();
}
const url = withDatabase(adminUrl, 'drill');
const database: DatabaseHandle = createDatabase(url, { maxConnections: 10 });
await migrateToLatest(database.db);
const jobs = new JobQueue({
  connectionString: url,
  log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  worker: false,
  maxConnections: 3,
});
await jobs.start();
const appPort = await findFreePort();
const baseUrl = `http://127.0.0.1:${String(appPort)}`;
const config = testConfig({ publicBaseUrl: baseUrl });
const app: FastifyInstance = await buildApp({ db: database.db, config, jobs, logger: false });
await app.listen({ port: appPort, host: '127.0.0.1' });

afterAll(async () => {
  await app.close();
  await jobs.stop(2_000).catch(() => undefined);
  await database.destroy();
  await server?.stop();
  await rm(tempDir, { recursive: true, force: true });
});

interface Outcome {
  readonly status: number | 'connection_error';
  readonly ids: number[];
  readonly at: number;
}

describe('fault drill: Postgres restarted under webhook load', () => {
  it('loses no acknowledged event and answers 2xx again within 10 s of Postgres being back', async () => {
    const portalId = String(70_000_000 + Math.floor(Math.random() * 1_000_000));
    const organization = await createOrganization(database.db, 'Drill org');
    await upsertOrganizationIntegration(database.db, config.tokenEncryptionKeys, {
      organizationId: organization.id,
      integrationId: 'hubspot',
      externalAccountId: portalId,
      externalAccountName: `portal-${portalId}`,
      accessToken: 'drill-access-token',
      refreshToken: 'drill-refresh-token',
      accessTokenExpiresAt: new Date(Date.now() + 30 * 60_000),
      grantedScopes: ['crm.objects.deals.read'],
    });

    const eventsUrl = `${baseUrl}${EVENTS_PATH}`;
    const outcomes: Outcome[] = [];
    let sending = true;
    const sender = async () => {
      while (sending) {
        const { events, ids } = webhookBatch(portalId, config.hubspot.appId, EVENTS_PER_BATCH);
        const body = JSON.stringify(events);
        try {
          const response = await fetch(eventsUrl, {
            method: 'POST',
            headers: signedHeaders(config.hubspot.clientSecret, eventsUrl, body),
            body,
            signal: AbortSignal.timeout(30_000),
          });
          await response.arrayBuffer();
          outcomes.push({ status: response.status, ids, at: Date.now() });
        } catch {
          outcomes.push({ status: 'connection_error', ids, at: Date.now() });
          await sleep(20);
        }
      }
    };
    const senders = Array.from({ length: CONCURRENCY }, () => sender());

    const ok = (o: Outcome) => typeof o.status === 'number' && o.status >= 200 && o.status < 300;
    await waitFor(() => outcomes.filter(ok).length >= 50, { what: '2xx answers before the stop' });
    const running = server;
    server = undefined;
    await running?.stop();
    const stoppedAt = Date.now();
    await waitFor(() => outcomes.some((o) => o.at > stoppedAt && !ok(o)), {
      what: 'failed deliveries while Postgres is down',
    });
    await sleep(1_000);
    server = await startEmbeddedPostgres({ dir: dataDir, port: pgPort });
    const backAt = Date.now();
    // The same app process recovers on its own: 2xx again within 10 s of Postgres being back.
    await waitFor(() => outcomes.filter((o) => o.at > backAt && ok(o)).length >= 20, {
      timeoutMs: BACK_BOUND_MS,
      intervalMs: 50,
      what: '2xx answers after Postgres came back',
    });
    sending = false;
    await Promise.all(senders);

    const failed = outcomes.filter((o) => !ok(o));
    expect(failed.length).toBeGreaterThan(0);
    // A failure is something HubSpot retries: a 5xx or a dropped connection, never a 4xx.
    expect(failed.filter((o) => typeof o.status === 'number' && o.status < 500)).toEqual([]);
    // Nothing acknowledged is lost.
    const acknowledged = outcomes.filter(ok).flatMap((o) => o.ids);
    const stored = await storedEventIds(database.db, portalId);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(0);
    // And the events' processing job committed with them (the transactional outbox).
    const queued = await sql<{ n: number }>`
      select count(*)::int as n from pgboss.job
       where name = 'hubspot-process-portal-events' and singleton_key = ${portalId}
    `.execute(database.db);
    expect(queued.rows[0]?.n ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
