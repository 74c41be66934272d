import type { WorkerDeps } from '../../platform/jobs/worker-deps.ts';
import { handleCompleteWorkflowCallback } from '../workflow/callback-completion.ts';
import { handleImportDealJob } from './import-job.ts';
import { completeWorkflowCallbackJob, importDealJob } from './job-definitions.ts';

/** Registers the deal-import job and the workflow callback completion job. */
export async function registerImportWorkers(deps: WorkerDeps): Promise<void> {
  await deps.jobs.work(importDealJob, (payload, job) => handleImportDealJob(deps, payload, job));
  await deps.jobs.work(completeWorkflowCallbackJob, (payload, job) =>
    handleCompleteWorkflowCallback(deps, payload, job, completeWorkflowCallbackJob.retryLimit ?? 0),
  );
}
