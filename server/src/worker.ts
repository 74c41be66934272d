import { registerImportWorkers } from './hubspot/legal-review/workers.ts';
import { registerSyncWorkers } from './hubspot/jobs.ts';
import type { WorkerDeps } from './platform/jobs/worker-deps.ts';

export type { WorkerDeps };

/** Starts every background job handler in this process (`npm start`, `npm run start:worker`). */
export async function startWorkers(deps: WorkerDeps): Promise<void> {
  await deps.jobs.start();
  await registerImportWorkers(deps);
  await registerSyncWorkers(deps);
}
