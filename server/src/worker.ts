import { CRM_ADAPTERS } from './app.ts';
import type { WorkerDeps } from './platform/jobs/worker-deps.ts';

export type { WorkerDeps };

/** Starts every background job handler in this process (`npm start`, `npm run start:worker`). */
export async function startWorkers(deps: WorkerDeps): Promise<void> {
  await deps.jobs.start();
  for (const adapter of CRM_ADAPTERS) await adapter.startJobs(deps);
}
