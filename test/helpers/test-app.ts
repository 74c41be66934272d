import { randomBytes } from 'node:crypto';

import type { FastifyInstance } from 'fastify';
import { afterAll } from 'vitest';

import { buildApp, type AppDeps } from '../../server/src/app.ts';
import type { AppConfig, HubSpotAppConfig } from '../../server/src/platform/config/runtime.ts';
import { parseKeyring } from '../../server/src/platform/crypto/keyring.ts';
import type { Database } from '../../server/src/platform/db/database.ts';
import { JobQueue } from '../../server/src/platform/jobs/queue.ts';
import { testDatabaseUrl } from './test-db.ts';

export const TEST_KEYRING_VALUE = `test1:${randomBytes(32).toString('base64')}`;

/** A complete app config for tests; override what a test cares about. */
export function testConfig(
  overrides: Omit<Partial<AppConfig>, 'hubspot'> & { hubspot?: Partial<HubSpotAppConfig> } = {},
): AppConfig {
  const parsed = parseKeyring(TEST_KEYRING_VALUE);
  if (!parsed.ok) throw new Error(parsed.problem);
  const { hubspot, ...rest } = overrides;
  return {
    port: 0,
    host: '127.0.0.1',
    publicBaseUrl: 'https://lexicontract.test',
    databaseUrl: undefined,
    logLevel: 'silent',
    dataDir: '.data-test',
    tokenEncryptionKeys: parsed.keyring,
    sessionSecret: randomBytes(32).toString('base64url'),
    ...rest,
    hubspot: {
      sandbox: true,
      clientId: 'test-client-id',
      clientSecret: 'test-client-secret',
      appId: '424242',
      apiBaseUrl: 'http://127.0.0.1:9',
      authorizeUrl: 'http://127.0.0.1:9/oauth/authorize',
      ...hubspot,
    },
  };
}

const silentJobLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A job queue on a test database (pg-boss starts lazily); stopped after the test file. */
export function createTestJobQueue(db: Database, options: { worker?: boolean } = {}): JobQueue {
  const jobs = new JobQueue({
    connectionString: testDatabaseUrl(db),
    log: silentJobLog,
    worker: options.worker ?? false,
    maxConnections: 3,
  });
  afterAll(async () => {
    await jobs.stop(5_000);
  });
  return jobs;
}

/** Builds the real app against a test database; closed after the test file. */
export async function buildTestApp(deps: {
  db: Database;
  config?: AppConfig;
  jobs?: JobQueue;
  logger?: AppDeps['logger'];
}): Promise<FastifyInstance> {
  const app = await buildApp({
    db: deps.db,
    config: deps.config ?? testConfig(),
    jobs: deps.jobs ?? createTestJobQueue(deps.db),
    logger: deps.logger ?? false,
  });
  afterAll(async () => {
    await app.close();
  });
  return app;
}
