import type { Logger } from 'pino';

import type { AppConfig } from '../config/runtime.ts';
import type { Database } from '../db/database.ts';
import type { JobQueue } from './queue.ts';

/** What background job handlers get: the same config, database and queue as the web app. */
export interface WorkerDeps {
  readonly config: AppConfig;
  readonly db: Database;
  readonly jobs: JobQueue;
  readonly log: Logger;
}
