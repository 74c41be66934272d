import path from 'node:path';

import closeWithGrace from 'close-with-grace';
import pino from 'pino';

import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config/env.ts';
import { loadOrCreateSandboxSecrets, resolveAppConfig } from './config/runtime.ts';
import { createDatabase } from './db/database.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './db/embedded.ts';
import { migrateToLatest } from './db/migrate.ts';
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

  let embedded: EmbeddedPostgresHandle | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const dir = path.join(config.dataDir, 'postgres');
    log.info({ dir }, 'DATABASE_URL not set: starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      dir,
      onLog: (message) => {
        log.debug({ postgres: message.trim() }, 'embedded postgres');
      },
    });
    databaseUrl = embedded.url;
  }
  const database = createDatabase(databaseUrl);
  const applied = await migrateToLatest(database.db);
  if (applied.length > 0) log.info({ applied }, 'database migrated');

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

  const app = await buildApp({ config: appConfig, db: database.db });

  closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error');
    else log.info({ signal }, 'shutting down');
    await app.close();
    await database.destroy();
    if (embedded) await embedded.stop();
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
