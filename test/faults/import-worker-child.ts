/**
 * A stand-alone worker process for the import drill: `node import-worker-child.ts` with
 * WORKER_CHILD_CONFIG = JSON { databaseUrl, keyring, config (AppConfig without the keyring) }.
 * Runs every HubSpot job handler and the maintenance sweep on the config's schedule, as
 * `npm run start:worker` does. Prints "ready" once its handlers are registered; runs until killed.
 */
import pino from 'pino';

import type { AppConfig } from '../../server/src/platform/config/runtime.ts';
import { parseKeyring } from '../../server/src/platform/crypto/keyring.ts';
import { createDatabase } from '../../server/src/platform/db/database.ts';
import { startHubSpotJobs } from '../../server/src/hubspot/jobs.ts';
import { JobQueue } from '../../server/src/platform/jobs/queue.ts';

const input = JSON.parse(process.env.WORKER_CHILD_CONFIG ?? '{}') as {
  databaseUrl: string;
  keyring: string;
  config: Omit<AppConfig, 'tokenEncryptionKeys'>;
};
const keyring = parseKeyring(input.keyring);
if (!keyring.ok) throw new Error(keyring.problem);
const config: AppConfig = { ...input.config, tokenEncryptionKeys: keyring.keyring };
const { db } = createDatabase(input.databaseUrl, { maxConnections: 8 });
const log = pino({ level: process.env.DRILL_CHILD_LOG_LEVEL ?? 'silent' }, process.stderr);
const jobs = new JobQueue({
  connectionString: input.databaseUrl,
  log,
  worker: true,
  maxConnections: 4,
});
await jobs.start();
await startHubSpotJobs({ config, db, jobs, log });
process.stdout.write('ready\n');
