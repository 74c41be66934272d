import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { buildApp } from '../../server/src/app.ts';
import { createSignInLink } from '../../server/src/core/auth/sign-in-links.ts';
import { upsertOrganizationIntegration } from '../../server/src/core/integrations/organization-integrations.ts';
import { createApiKey } from '../../server/src/core/organizations/api-keys.ts';
import { createOrganization } from '../../server/src/core/organizations/organizations.ts';
import { createDatabase, type DatabaseHandle } from '../../server/src/platform/db/database.ts';
import {
  findFreePort,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from '../../server/src/platform/db/embedded.ts';
import { migrateToLatest } from '../../server/src/platform/db/migrate.ts';
import { JobQueue } from '../../server/src/platform/jobs/queue.ts';
import { withDatabase } from '../setup/global-setup.ts';
import { testConfig } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { WebClient } from '../helpers/web-client.ts';
import { EVENTS_PATH, signedHeaders, webhookBatch } from './fault-helpers.ts';

/**
 * 18.5: Postgres stops under the running app. Pages, the REST API, HubSpot's signed webhook
 * and workflow action all answer 503 `database_unavailable` with `Retry-After` (HubSpot
 * retries a 5xx; a page says the same to a browser), the log gets a bounded number of error
 * lines however many requests fail, and the same process answers normally again once
 * Postgres is back, without a restart.
 */

const OUTAGE_MS = 4_000;
const ACTION_PATH = '/api/v1/integrations/hubspot/webhook';

const tempDir = await mkdtemp(path.join(os.tmpdir(), 'lexicontract-drill-outage-'));
const dataDir = path.join(tempDir, 'data');
const pgPort = await findFreePort();
let server: EmbeddedPostgresHandle | undefined = await startEmbeddedPostgres({
  dir: dataDir,
  port: pgPort,
});
{
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('create database drill');
  await admin.end();
}
const url = withDatabase(server.url, 'drill');
const database: DatabaseHandle = createDatabase(url, { maxConnections: 10 });
await migrateToLatest(database.db);

/** Every log line at level error (50) or above, from the app and the job queue. */
const errorLines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      const parsed = JSON.parse(line) as { level?: number };
      if ((parsed.level ?? 0) >= 50) errorLines.push(line);
    }
    done();
  },
});
const jobs = new JobQueue({
  connectionString: url,
  log: {
    info: () => undefined,
    warn: () => undefined,
    error: (obj, msg) => errorLines.push(JSON.stringify({ ...obj, msg })),
  },
  worker: false,
  maxConnections: 2,
});
await jobs.start();
const appPort = await findFreePort();
const baseUrl = `http://127.0.0.1:${String(appPort)}`;
const config = testConfig({ publicBaseUrl: baseUrl });
const app: FastifyInstance = await buildApp({
  db: database.db,
  config,
  jobs,
  logger: { level: 'info', stream: logStream },
});
await app.listen({ port: appPort, host: '127.0.0.1' });

afterAll(async () => {
  await app.close();
  await jobs.stop(2_000).catch(() => undefined);
  await database.destroy();
  await server?.stop();
  await rm(tempDir, { recursive: true, force: true });
});

interface Answer {
  readonly surface: string;
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly code: string | undefined;
  readonly contentType: string;
}

describe('fault drill: Postgres down under the running app', () => {
  it('answers 503 database_unavailable with Retry-After everywhere, logs boundedly, recovers', async () => {
    const portalId = String(71_000_000 + Math.floor(Math.random() * 1_000_000));
    const organization = await createOrganization(database.db, 'Outage org');
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
    const apiKey = await createApiKey(database.db, organization.id);
    const link = await createSignInLink(
      database.db,
      { publicBaseUrl: baseUrl },
      { organizationId: organization.id, email: 'legal@outage.test' },
    );
    const browser = new WebClient(app);
    await browser.postForm('/sign-in/link', {
      token: new URL(link.url).searchParams.get('token') ?? '',
    });

    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const ask = {
      page: async () => {
        const response = await fetch(`${baseUrl}/contracts`, {
          headers: { accept: 'text/html,application/xhtml+xml', cookie, 'sec-fetch-site': 'none' },
          redirect: 'manual',
        });
        return answer('page', response.status, headersOf(response), await response.text());
      },
      api: async () => {
        const response = await fetch(`${baseUrl}/api/v1/contracts`, {
          headers: { authorization: `Bearer ${apiKey.key}` },
        });
        return answer('api', response.status, headersOf(response), await response.text());
      },
      webhook: async () => {
        const target = `${baseUrl}${EVENTS_PATH}`;
        const body = JSON.stringify(webhookBatch(portalId, config.hubspot.appId, 5).events);
        const response = await fetch(target, {
          method: 'POST',
          headers: signedHeaders(config.hubspot.clientSecret, target, body),
          body,
        });
        return answer('webhook', response.status, headersOf(response), await response.text());
      },
      action: async () => {
        const target = `${baseUrl}${ACTION_PATH}`;
        const body = JSON.stringify({
          callbackId: `ap-${portalId}-${String(Date.now())}-1-0`,
          origin: { portalId: Number(portalId), actionDefinitionId: 1, actionDefinitionVersion: 1 },
          context: { source: 'WORKFLOWS', workflowId: 42 },
          object: { objectId: 9001, objectType: 'DEAL', properties: {} },
          inputFields: {},
        });
        const response = await fetch(target, {
          method: 'POST',
          headers: signedHeaders(config.hubspot.clientSecret, target, body),
          body,
        });
        return answer('action', response.status, headersOf(response), await response.text());
      },
    } satisfies Record<string, () => Promise<Answer>>;

    // Up: every surface answers without a server error.
    for (const [surface, one] of Object.entries(ask)) {
      const up = await one();
      expect({ surface, status: up.status < 500 }).toEqual({ surface, status: true });
    }
    expect((await ask.page()).status).toBe(200);
    expect((await ask.api()).status).toBe(200);
    const errorsBefore = errorLines.length;

    const running = server;
    server = undefined;
    await running?.stop();

    // Down: every surface, many times over, for a few seconds.
    const answers: Answer[] = [];
    const until = Date.now() + OUTAGE_MS;
    await Promise.all(
      Object.values(ask).flatMap((one) =>
        Array.from({ length: 3 }, async () => {
          while (Date.now() < until) answers.push(await one());
        }),
      ),
    );
    expect(answers.length).toBeGreaterThan(100);
    const wrong = answers.filter(
      (a) =>
        a.status !== 503 ||
        a.retryAfter === undefined ||
        (a.surface === 'page'
          ? !a.contentType.includes('text/html')
          : a.code !== 'database_unavailable'),
    );
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(new Set(answers.map((a) => a.surface))).toEqual(new Set(Object.keys(ask)));
    // One line per interval from the handler (and one from the job queue), not one per request.
    const outageErrors = errorLines.slice(errorsBefore);
    expect(outageErrors.length).toBeGreaterThan(0);
    expect(outageErrors.length).toBeLessThanOrEqual(6);

    server = await startEmbeddedPostgres({ dir: dataDir, port: pgPort });
    // Back: the same process answers normally, no restart.
    await waitFor(async () => (await ask.api()).status === 200, {
      what: 'the REST API answering 200 after Postgres came back',
    });
    expect((await ask.page()).status).toBe(200);
    expect((await ask.webhook()).status).toBeLessThan(300);
    await sleep(100);
  }, 120_000);
});

function headersOf(response: Response): Record<string, string> {
  return Object.fromEntries(response.headers.entries());
}

function answer(
  surface: string,
  status: number,
  headers: Record<string, string | string[] | number | undefined>,
  body: string,
): Answer {
  let code: string | undefined;
  try {
    code = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  const retryAfter = headers['retry-after'];
  return {
    surface,
    status,
    retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
    code,
    contentType: String(headers['content-type'] ?? ''),
  };
}
