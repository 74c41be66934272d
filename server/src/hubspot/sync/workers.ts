import type { WorkerDeps } from '../../worker.ts';

/** Registers the deal-sync job handlers (the sync issue fills this in). */
export async function registerSyncWorkers(_deps: WorkerDeps): Promise<void> {
  // No sync jobs yet.
}
