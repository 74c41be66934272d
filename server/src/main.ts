import { setTimeout as sleep } from 'node:timers/promises';

import closeWithGrace from 'close-with-grace';
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
import { REQUIRED_SCOPES } from './hubspot/install/scopes.ts';
import { JobQueue } from './platform/jobs/queue.ts';
import { startWorkers } from './worker.ts';

/**
 * Process entry: `npm start` (web + worker), `npm run start:web`, `npm run start:worker`.
 * Config → Postgres (DATABASE_URL or embedded) → migrations → app → listen; SIGTERM drains
 * requests, then closes the pool and the embedded server.
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

function sandboxBanner(appUrl: string, sandboxUrl: string): string {
  const line = '='.repeat(78);
  return [
    '',
    line,
    '  SANDBOX MODE: no HubSpot credentials are configured.',
    '  The app talks to the bundled HubSpot sandbox, not to HubSpot.',
    '',
    `  Open ${appUrl}/  and press "Sign in with HubSpot": the sandbox's consent`,
    `  page installs the app into its demo portal.`,
    `  Then open the sandbox's deal records (standing in for HubSpot): ${sandboxUrl}/`,
    line,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const role = parseRole(process.argv.slice(2));
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n\nSee .env.example for every variable.\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = pino({ level: config.logLevel, redact: REDACTED_PATHS });

  const database = await openDatabaseFromConfig(config, { log });
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) log.info({ applied }, 'database migrated');
  } catch (error) {
    // Stop the embedded server we may have started before giving up.
    await database.close();
    throw error;
  }

  // Sandbox mode: no HubSpot credentials, so a local HubSpot stands in, on its own port.
  let sandbox: RunningSandbox | undefined;
  let sandboxSecretsInUse: SandboxSecrets | undefined;
  if (config.hubspot.mode === 'sandbox') {
    const secrets = await loadOrCreateSandboxSecrets(config.dataDir);
    // Loaded here and only here, so a production process never loads the sandbox's code.
    const { startSandbox } = await import('../../sandbox/index.ts');
    sandbox = await startSandbox({
      host: config.host,
      port: config.port === 0 ? 0 : config.port + 1,
      seedDemoPortal: true,
      logger: log.child({ component: 'hubspot-sandbox' }),
      app: {
        clientId: secrets.clientId,
        clientSecret: secrets.clientSecret,
        appId: secrets.appId,
        name: 'LexiContract (sandbox)',
        redirectUrls: [`${config.publicBaseUrl}/api/v1/integrations/hubspot/callback`],
        requiredScopes: [...REQUIRED_SCOPES],
        actionUrl: `${config.publicBaseUrl}/api/v1/integrations/hubspot/webhook`,
        webhookTargetUrl: `${config.publicBaseUrl}/api/v1/integrations/hubspot/events`,
        appBaseUrl: config.publicBaseUrl,
      },
    });
    sandboxSecretsInUse = secrets;
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

  try {
    const keys = await registerKeyring(database.db, appConfig.tokenEncryptionKeys);
    if (keys.newlyRegistered.length > 0) {
      log.info({ keyIds: keys.newlyRegistered }, 'token encryption keys registered');
    }
  } catch (error) {
    await database.close();
    if (error instanceof KeyringRejectedError) {
      process.stderr.write(`Refusing to start: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const jobs = new JobQueue({
    connectionString: database.url,
    log: log.child({ component: 'jobs' }),
    worker: role !== 'web',
  });
  const app = await buildApp({ config: appConfig, db: database.db, jobs });

  // SIGTERM/SIGINT: stop taking requests and drain them, let running jobs finish (or hand
  // them back), then close the pool and the embedded server; a hard exit after 20 s.
  closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error');
    else log.info({ signal }, 'shutting down');
    // Readiness fails and responses close their connections; a moment later stop listening
    // and wait for requests in flight.
    app.draining = true;
    await sleep(1_500);
    await app.close();
    await jobs.stop(12_000);
    if (sandbox) await sandbox.close();
    await database.close();
  });

  if (role !== 'web') {
    await startWorkers({
      config: appConfig,
      db: database.db,
      jobs,
      log: log.child({ component: 'worker' }),
    });
  }

  if (role !== 'worker') {
    await app.listen({ port: config.port, host: config.host });
  } else {
    await app.ready();
  }
  log.info({ role, url: config.publicBaseUrl }, 'LexiContract for HubSpot is running');
  if (sandbox && role !== 'worker') {
    process.stdout.write(sandboxBanner(config.publicBaseUrl, sandbox.url));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
