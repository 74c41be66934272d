import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import pino from 'pino';

import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './platform/config/env.ts';
import {
  loadOrCreateSandboxSecrets,
  resolveAppConfig,
  type SandboxSecrets,
} from './platform/config/runtime.ts';
import { registerKeyring, KeyringRejectedError } from './core/integrations/key-registry.ts';
import { migrateToLatest } from './platform/db/migrate.ts';
import { openDatabaseFromConfig } from './platform/db/open.ts';
import { REDACTED_PATHS } from './platform/http/logger.ts';
import { loadDotEnv } from './platform/config/dotenv.ts';
import { listenOrExplain, settingInUse } from './platform/process/listen.ts';
import { Shutdown } from './platform/process/shutdown.ts';
import { OPTIONAL_SCOPES, REQUIRED_SCOPES } from './hubspot/install/scopes.ts';
import { JobQueue } from './platform/jobs/queue.ts';
import { registerMetricsRoute, startMetricsServer } from './platform/metrics.ts';
import { exportHubSpotMetrics } from './hubspot/metrics.ts';
import { startWorkers } from './worker.ts';

/**
 * Process entry: `npm start` (web + worker), `npm run start:web`, `npm run start:worker`.
 * `.env` → config → Postgres (DATABASE_URL or embedded) → migrations → app → listen.
 * SIGTERM or SIGINT drains requests, stops the jobs, closes the pool and stops the embedded
 * server last; a start that fails part-way stops what it had started.
 * `--reset-sandbox` (sandbox mode) forgets the sandbox's saved state: a fresh demo portal.
 */
type Role = 'all' | 'web' | 'worker';

/** What this process uses of the HubSpot sandbox (loaded only in sandbox mode). */
interface RunningSandbox {
  readonly url: string;
  readonly authorizeUrl: string;
  close(): Promise<void>;
}

function parseRole(argv: readonly string[]): Role {
  const flag = argv.find((a) => a.startsWith('--role='));
  const role = flag?.slice('--role='.length) ?? 'all';
  if (role !== 'all' && role !== 'web' && role !== 'worker') {
    process.stderr.write(`Unknown --role=${role}; use web, worker or all\n`);
    process.exit(2);
  }
  return role;
}

function sandboxBanner(appUrl: string, sandboxUrl: string, controlToken?: string): string {
  const line = '='.repeat(78);
  const remote =
    controlToken === undefined
      ? []
      : [
          '',
          `  SANDBOX_ALLOW_REMOTE=1: the sandbox listens beyond loopback. Its control API`,
          `  (${sandboxUrl}/_sandbox/...) needs "Authorization: Bearer ${controlToken}",`,
          `  and its consent page installs into an existing account only with that token.`,
        ];
  return [
    '',
    line,
    '  SANDBOX MODE: no HubSpot credentials are configured.',
    '  The app talks to the bundled HubSpot sandbox, not to HubSpot.',
    '',
    `  Open ${appUrl}/  and press "Sign in with HubSpot": the sandbox's consent`,
    `  page installs the app into its demo portal.`,
    `  Then open the sandbox's deal records (standing in for HubSpot): ${sandboxUrl}/`,
    ...remote,
    line,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const role = parseRole(process.argv.slice(2));
  let config;
  try {
    loadDotEnv();
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n\nSee .env.example for every variable.\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = pino({ level: config.logLevel, redact: REDACTED_PATHS });

  // Registered as each part starts; they stop in reverse (the database last), on a signal
  // or when a later step of the start fails. A hard exit after 20 s.
  const shutdown = new Shutdown(log, { deadlineMs: 20_000 });
  try {
    await start(role, config, log, shutdown);
  } catch (error) {
    log.error({ err: error }, 'failed to start');
    if (error instanceof KeyringRejectedError) {
      process.stderr.write(`Refusing to start: ${error.message}\n`);
    } else {
      process.stderr.write(
        `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
    await shutdown.stop({ failed: true });
  }
}

async function start(
  role: Role,
  config: ReturnType<typeof loadConfig>,
  log: pino.Logger,
  shutdown: Shutdown,
): Promise<void> {
  // Sandbox mode: no HubSpot credentials, so a local HubSpot stands in, on the next port (a
  // stable address across restarts, for the browser tab on its deal records).
  const sandboxPort = config.port === 0 ? 0 : config.port + 1;
  // Free now, taken only once the database is up: the embedded server must keep off them.
  const listenPorts = [
    config.port,
    ...(config.hubspot.mode === 'sandbox' ? [sandboxPort] : []),
    ...(config.metricsPort === undefined ? [] : [config.metricsPort]),
  ];
  const database = await openDatabaseFromConfig(config, { log, reservedPorts: listenPorts });
  shutdown.add('database', () => database.close());
  const applied = await migrateToLatest(database.db);
  if (applied.length > 0) log.info({ applied }, 'database migrated');

  let sandbox: RunningSandbox | undefined;
  let sandboxSecretsInUse: SandboxSecrets | undefined;
  // Exposed beyond loopback (the operator opted in): the control API and the consent page's
  // choice of an existing portal need this token, new at every start.
  const controlToken = config.sandboxAllowRemote
    ? randomBytes(24).toString('base64url')
    : undefined;
  if (config.hubspot.mode === 'sandbox') {
    const secrets = await loadOrCreateSandboxSecrets(config.dataDir);
    // The sandbox's portals, installs and deals survive restarts in this file, next to the
    // generated app credentials (which are stable too, so its tokens stay the app's).
    const stateFile = path.join(config.dataDir, 'sandbox-state.v8');
    if (process.argv.includes('--reset-sandbox')) {
      await rm(stateFile, { force: true });
      log.warn(
        { stateFile },
        'sandbox reset: a fresh demo portal; connect HubSpot again in the app',
      );
    }
    // Loaded here and only here, so a production process never loads the sandbox's code.
    const { startSandbox } = await import('../../sandbox/index.ts');
    sandbox = await listenOrExplain(
      sandboxPort,
      `The HubSpot sandbox listens on PORT + 1 (${String(sandboxPort)}), which another process ` +
        'is using: stop that process, or set PORT to a port whose next port is free too.',
      (port) =>
        startSandbox({
          host: config.host,
          port,
          seedDemoPortal: true,
          stateFile,
          ...(controlToken !== undefined ? { controlToken } : {}),
          logger: log.child({ component: 'hubspot-sandbox' }),
          app: {
            clientId: secrets.clientId,
            clientSecret: secrets.clientSecret,
            appId: secrets.appId,
            name: 'LexiContract (sandbox)',
            redirectUrls: [`${config.publicBaseUrl}/api/v1/integrations/hubspot/callback`],
            requiredScopes: [...REQUIRED_SCOPES],
            optionalScopes: [...OPTIONAL_SCOPES],
            actionUrl: `${config.publicBaseUrl}/api/v1/integrations/hubspot/webhook`,
            webhookTargetUrl: `${config.publicBaseUrl}/api/v1/integrations/hubspot/events`,
            appBaseUrl: config.publicBaseUrl,
          },
        }),
    );
    sandboxSecretsInUse = secrets;
    const running = sandbox;
    shutdown.add('sandbox', () => running.close());
  }
  const appConfig = resolveAppConfig(
    config,
    sandbox &&
      sandboxSecretsInUse && {
        secrets: sandboxSecretsInUse,
        apiBaseUrl: sandbox.url,
        authorizeUrl: sandbox.authorizeUrl,
      },
  );

  const keys = await registerKeyring(database.db, appConfig.tokenEncryptionKeys);
  if (keys.newlyRegistered.length > 0) {
    log.info({ keyIds: keys.newlyRegistered }, 'token encryption keys registered');
  }

  const jobs = new JobQueue({
    connectionString: database.url,
    log: log.child({ component: 'jobs' }),
    worker: role !== 'web',
  });
  shutdown.add('jobs', () => jobs.stop(12_000));
  const app = await buildApp({ config: appConfig, db: database.db, jobs });
  // Metrics only where asked for: a listener of their own and/or a token on the main port.
  if (config.metricsPort !== undefined || config.metricsToken !== undefined) {
    jobs.exportDepthMetrics();
    exportHubSpotMetrics(database.db);
  }
  if (config.metricsToken !== undefined && role !== 'worker') {
    registerMetricsRoute(app, { token: config.metricsToken });
  }
  shutdown.add('http', async () => {
    // Readiness fails and responses close their connections; a moment later stop listening
    // and wait for requests in flight.
    app.draining = true;
    if (app.server.listening) await sleep(1_500);
    await app.close();
  });

  if (role !== 'web') {
    await startWorkers({
      config: appConfig,
      db: database.db,
      jobs,
      log: log.child({ component: 'worker' }),
    });
  }

  if (config.metricsPort !== undefined) {
    const metrics = await listenOrExplain(
      config.metricsPort,
      settingInUse('METRICS_PORT', config.metricsPort),
      (port) =>
        startMetricsServer({
          host: config.host,
          port,
          ...(config.metricsToken === undefined ? {} : { token: config.metricsToken }),
        }),
    );
    shutdown.add('metrics', () => metrics.close());
    log.info({ url: `${metrics.url}/metrics` }, 'metrics listening');
  }
  if (role !== 'worker') {
    await listenOrExplain(config.port, settingInUse('PORT', config.port), (port) =>
      app.listen({ port, host: config.host }),
    );
  } else {
    await app.ready();
  }
  log.info({ role, url: config.publicBaseUrl }, 'LexiContract for HubSpot is running');
  if (sandbox && role !== 'worker') {
    process.stdout.write(sandboxBanner(config.publicBaseUrl, sandbox.url, controlToken));
  }
}

await main();
