import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';

import { buildApp } from '../server/src/app.ts';
import type { AppConfig } from '../server/src/platform/config/runtime.ts';
import { registerKeyring } from '../server/src/core/integrations/key-registry.ts';
import { parseKeyring } from '../server/src/platform/crypto/keyring.ts';
import { createDatabase, type Database } from '../server/src/platform/db/database.ts';
import { findFreePort, startEmbeddedPostgres } from '../server/src/platform/db/embedded.ts';
import { migrateToLatest } from '../server/src/platform/db/migrate.ts';
import { loggerOptions } from '../server/src/platform/http/logger.ts';
import type { HubSpotTokenDeps } from '../server/src/hubspot/client/access-tokens.ts';
import { provisionPortal } from '../server/src/hubspot/install/provisioning.ts';
import { OPTIONAL_SCOPES, REQUIRED_SCOPES } from '../server/src/hubspot/install/scopes.ts';
import { upsertOrganizationIntegration } from '../server/src/core/integrations/organization-integrations.ts';
import { JobQueue } from '../server/src/platform/jobs/queue.ts';
import { createOrganization } from '../server/src/core/organizations/organizations.ts';
import { startSandbox, type SandboxHandle } from '../sandbox/index.ts';

/**
 * The system under test, all in this process: Postgres (embedded in a temp dir, or a fresh
 * database on DATABASE_URL's server), migrations, the HubSpot sandbox, and the real app
 * listening on a real port with its production logger (level `info`, written to a file in
 * the temp dir so the terminal stays readable). Workers are started per scenario.
 */
export interface BenchEnv {
  readonly app: FastifyInstance;
  readonly sandbox: SandboxHandle;
  readonly config: AppConfig;
  readonly db: Database;
  readonly databaseUrl: string;
  /** The app's queue (enqueue only; workers use their own queue, see `startWorkerQueue`). */
  readonly jobs: JobQueue;
  readonly baseUrl: string;
  readonly tokenDeps: HubSpotTokenDeps;
  readonly tempDir: string;
  /** The app's log file (production logger, level info). */
  readonly logFile: string;
  readonly postgres: string;
  /** TOKEN_ENCRYPTION_KEYS value of this run (child processes rebuild the config from it). */
  readonly keyringValue: string;
  newJobQueue(worker: boolean): JobQueue;
  connectPortal(options?: { provision?: boolean }): Promise<{
    organizationId: string;
    portalId: string;
  }>;
  close(): Promise<void>;
}

/** The deal properties `webhooks-hsmeta.json` subscribes to. */
async function subscribedPropertyNames(): Promise<string[]> {
  const file = path.resolve(
    import.meta.dirname,
    '../hubspot-app/app/webhooks/webhooks-hsmeta.json',
  );
  const meta = JSON.parse(await readFile(file, 'utf8')) as {
    config: {
      subscriptions: { crmObjects: { subscriptionType: string; propertyName?: string }[] };
    };
  };
  return meta.config.subscriptions.crmObjects.flatMap((s) =>
    s.subscriptionType === 'object.propertyChange' && s.propertyName ? [s.propertyName] : [],
  );
}

const silentJobLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function startBenchEnv(options: { importMaxFileBytes: number }): Promise<BenchEnv> {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'lexicontract-bench-'));
  const cleanups: (() => Promise<void>)[] = [];

  // Postgres: a fresh database on DATABASE_URL's server, else an embedded server.
  let databaseUrl: string;
  let postgres: string;
  const external = process.env.DATABASE_URL;
  if (external) {
    const name = `lexicontract_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: external });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const version = await admin.query<{ server_version: string }>('show server_version');
    await admin.end();
    databaseUrl = withDatabase(external, name);
    postgres = `PostgreSQL ${version.rows[0]?.server_version ?? '?'} (DATABASE_URL, database ${name})`;
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: external });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    });
  } else {
    const embedded = await startEmbeddedPostgres({ dir: path.join(tempDir, 'postgres') });
    databaseUrl = embedded.url;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const version = await client.query<{ server_version: string }>('show server_version');
    await client.end();
    postgres = `PostgreSQL ${version.rows[0]?.server_version ?? '?'} (embedded, temp dir, default durability)`;
    cleanups.push(() => embedded.stop());
  }

  const handle = createDatabase(databaseUrl, { maxConnections: 20 });
  const db = handle.db;
  cleanups.push(() => handle.destroy());
  await migrateToLatest(db);

  const keyringValue = `bench1:${randomBytes(32).toString('base64')}`;
  const keyring = parseKeyring(keyringValue);
  if (!keyring.ok) throw new Error(keyring.problem);
  await registerKeyring(db, keyring.keyring);

  const port = await findFreePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const credentials = {
    clientId: `bench-${randomBytes(4).toString('hex')}`,
    clientSecret: randomBytes(24).toString('base64url'),
    appId: String(100_000 + Math.floor(Math.random() * 800_000)),
  };
  const sandbox = await startSandbox({
    // Like HubSpot, deliver only the property changes the app subscribes to (not the report
    // properties the sync also writes on every deal).
    webhooks: { propertyNames: await subscribedPropertyNames() },
    app: {
      ...credentials,
      name: 'LexiContract (bench)',
      redirectUrls: [`${baseUrl}/api/v1/integrations/hubspot/callback`],
      requiredScopes: [...REQUIRED_SCOPES],
      optionalScopes: [...OPTIONAL_SCOPES],
      actionUrl: `${baseUrl}/api/v1/integrations/hubspot/webhook`,
      webhookTargetUrl: `${baseUrl}/api/v1/integrations/hubspot/events`,
      appBaseUrl: baseUrl,
    },
  });
  cleanups.push(() => sandbox.close());

  const config: AppConfig = {
    port,
    host: '127.0.0.1',
    publicBaseUrl: baseUrl,
    databaseUrl,
    logLevel: 'info',
    dataDir: path.join(tempDir, 'data'),
    tokenEncryptionKeys: keyring.keyring,
    sessionSecret: randomBytes(32).toString('base64url'),
    importMaxFileBytes: options.importMaxFileBytes,
    hubspot: {
      sandbox: true,
      ...credentials,
      apiBaseUrl: sandbox.url,
      authorizeUrl: sandbox.authorizeUrl,
    },
  };

  const newJobQueue = (worker: boolean): JobQueue => {
    const queue = new JobQueue({
      connectionString: databaseUrl,
      log: silentJobLog,
      worker,
      maxConnections: worker ? 6 : 4,
    });
    cleanups.push(() => queue.stop(5_000));
    return queue;
  };
  const jobs = newJobQueue(false);
  await jobs.start();

  const logFile = path.join(tempDir, 'app.log');
  const destination = pino.destination({ dest: logFile, sync: false, mkdir: true });
  const app = await buildApp({
    db,
    config,
    jobs,
    logger: { ...(loggerOptions('info') as object), stream: destination },
  });
  await app.listen({ port, host: '127.0.0.1' });
  cleanups.push(() => app.close());

  const tokenDeps: HubSpotTokenDeps = {
    db,
    keyring: config.tokenEncryptionKeys,
    hubspot: config.hubspot,
  };

  return {
    app,
    sandbox,
    config,
    db,
    databaseUrl,
    jobs,
    baseUrl,
    tokenDeps,
    tempDir,
    logFile,
    postgres,
    keyringValue,
    newJobQueue,
    async connectPortal(connect = {}) {
      const { portalId } = sandbox.control.createPortal({ name: 'Bench portal' });
      const tokens = sandbox.control.installApp(portalId);
      const organization = await createOrganization(db, `Bench org of portal ${portalId}`);
      await upsertOrganizationIntegration(db, config.tokenEncryptionKeys, {
        organizationId: organization.id,
        integrationId: 'hubspot',
        externalAccountId: String(portalId),
        externalAccountName: `portal-${portalId}.sandbox.hubspot`,
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        accessTokenExpiresAt: new Date(Date.now() + tokens.expires_in * 1000),
        grantedScopes: tokens.scopes ?? [...REQUIRED_SCOPES],
      });
      if (connect.provision !== false) {
        await provisionPortal(tokenDeps, String(portalId));
        // Recorded as the install's setup does: the deal sync then sends the report properties.
        await db
          .updateTable('organization_integrations')
          .set({ provisioning_status: 'done', provisioned_at: new Date() })
          .where('integration_id', '=', 'hubspot')
          .where('external_account_id', '=', String(portalId))
          .execute();
      }
      return { organizationId: organization.id, portalId: String(portalId) };
    },
    async close() {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch {
          // best effort: the temp dir goes anyway
        }
      }
      destination.flushSync();
      destination.end();
      await rm(tempDir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes out the pages Postgres holds dirty, so a measurement that follows does not pay for
 * the writes of the one before it. False when refused (needs superuser or pg_checkpoint).
 */
export async function checkpoint(env: Pick<BenchEnv, 'db'>): Promise<boolean> {
  return sql`checkpoint`.execute(env.db).then(
    () => true,
    () => false,
  );
}
