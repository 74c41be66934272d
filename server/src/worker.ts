import type { Logger } from 'pino';

import type { AppConfig } from './platform/config/runtime.ts';
import type { Database } from './platform/db/database.ts';
import { registerImportWorkers } from './hubspot/legal-review/workers.ts';
import { registerSyncWorkers } from './hubspot/jobs.ts';
import type { JobQueue } from './platform/jobs/queue.ts';

/** What background job handlers get: the same config, database and queue as the web app. */
export interface WorkerDeps {
  readonly config: AppConfig;
  readonly db: Database;
  readonly jobs: JobQueue;
  readonly log: Logger;
}

/** Starts every background job handler in this process (`npm start`, `npm run start:worker`). */
export async function startWorkers(deps: WorkerDeps): Promise<void> {
  await deps.jobs.start();
  await registerImportWorkers(deps);
  await registerSyncWorkers(deps);
}
