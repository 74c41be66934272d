import type { WorkerDeps } from '../../worker.ts';

/** Registers the deal-import job handlers (the import issue fills this in). */
export async function registerImportWorkers(_deps: WorkerDeps): Promise<void> {
  // No import jobs yet.
}
