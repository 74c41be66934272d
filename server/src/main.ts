import closeWithGrace from 'close-with-grace';
import pino from 'pino';

import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config/env.ts';
import { loadOrCreateSandboxSecrets, resolveAppConfig } from './config/runtime.ts';
import { registerKeyring, KeyringRejectedError } from './crypto/key-registry.ts';
import { migrateToLatest } from './db/migrate.ts';
import { openDatabaseFromConfig } from './db/open.ts';
import { REDACTED_PATHS } from './http/logger.ts';

/**
 * Process entry: `npm start` (web + worker), `npm run start:web`, `npm run start:worker`.
 * Config → Postgres (DATABASE_URL or embedded) → migrations → app → listen; SIGTERM drains
 * requests, then closes the pool and the embedded server.
 */
type Role = 'all' | 'web' | 'worker';

function parseRole(argv: readonly string[]): Role {
  const flag = argv.find((a) => a.startsWith('--role='));
  const role = flag?.slice('--role='.length) ?? 'all';
  if (role !== 'all' && role !== 'web' && role !== 'worker') {
    process.stderr.write(`Unknown --role=${role}; use web, worker or all\n`);
    process.exit(2);
  }
  return role;
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

  const sandboxSecrets =
    config.hubspot.mode === 'sandbox'
      ? await loadOrCreateSandboxSecrets(config.dataDir)
      : undefined;
  const appConfig = resolveAppConfig(
    config,
    sandboxSecrets && {
      secrets: sandboxSecrets,
      apiBaseUrl: config.publicBaseUrl,
      authorizeUrl: `${config.publicBaseUrl}/oauth/authorize`,
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

  const app = await buildApp({ config: appConfig, db: database.db });

  closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error');
    else log.info({ signal }, 'shutting down');
    await app.close();
    await database.close();
  });

  if (role !== 'worker') {
    await app.listen({ port: config.port, host: config.host });
  } else {
    await app.ready();
  }
  if (appConfig.hubspot.sandbox) {
    log.warn('SANDBOX MODE: no HubSpot credentials configured; using the bundled HubSpot sandbox');
  }
  log.info({ role, url: config.publicBaseUrl }, 'LexiContract for HubSpot is running');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
