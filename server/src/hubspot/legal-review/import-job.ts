import { setTimeout as sleep } from 'node:timers/promises';

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';

import { recordAudit } from '../../core/audit/audit-log.ts';
import { DEFAULT_IMPORT_MAX_FILE_BYTES } from '../../platform/config/env.ts';
import type { AppConfig } from '../../platform/config/runtime.ts';
import { writeContractFile } from '../../core/contracts/contract-files.ts';
import { ContractFileTooLargeError } from '../../core/contracts/errors.ts';
import {
  findImportedContract,
  listImportedExternalFileIds,
  listStuckImports,
  recordContractMetadata,
  recordSourceSnapshot,
  setImportOutcome,
} from '../../core/contracts/external-records.ts';
import type { DB } from '../../platform/db/schema.ts';
import { LIVE_JOB_STATES, type JobQueue } from '../../platform/jobs/queue.ts';
import { HubSpotApiError, HubSpotResponseShapeError } from '../client/hubspot-http.ts';
import {
  hubSpotTokenDeps,
  PortalNeedsReconnectError,
  PortalNotConnectedError,
} from '../client/access-tokens.ts';
import { contractUrl } from '../../core/contracts/contract.ts';
import { enqueueDealSync } from '../outbox/deal-sync-outbox.ts';
import {
  classifyAttachment,
  DealNotFoundError,
  fetchFileMetadata,
  fetchSignedUrl,
  listDealAttachmentRefs,
  type DealAttachment,
  type SkipReason,
} from './deal-reader.ts';
import {
  allowedTypeFor,
  downloadPolicy,
  fileFilterMatcher,
  type AllowedFileType,
  type FileFilter,
} from './file-policy.ts';
import type { FileMetadata } from '../wire/index.ts';
import type { ImportResultCode } from './import-results.ts';
import {
  completeWorkflowCallbackJob,
  IMPORT_RETRY_LIMIT,
  importDealJob,
  type ImportDealPayload,
} from './job-definitions.ts';
import { DownloadError, openDownload } from './safe-download.ts';
import { enqueueTimelineNote } from './timeline-notes.ts';
import { readMappedDeal } from './mapped-deal.ts';
import { decideRouting, routedBy, routingFactsOf } from './routing.ts';
import { backoffDelayMs } from '../../platform/backoff.ts';
import { importBytes, importDurationSeconds } from '../../platform/metrics.ts';

/**
 * The import job: deal → snapshot, notes → attachments → signed URLs → streamed into the
 * contract's file storage; then the contract is marked complete (or failed) in the same
 * transaction that queues the deal's status write and the workflow callback completion.
 */

export interface ImportJobDeps {
  readonly config: AppConfig;
  readonly db: Kysely<DB>;
  readonly jobs: JobQueue;
  readonly log: Logger;
}

export interface ImportedFile {
  readonly fileId: string;
  readonly contractFileId: string;
  readonly name: string;
  readonly sizeBytes: number;
  readonly sha256: string;
}

export interface SkippedFile {
  readonly fileId: string;
  readonly name: string;
  readonly reason: SkipReason;
  /** Why, in words, when the code alone does not say it (the contract page shows it). */
  readonly message?: string;
}

export interface ImportSummary {
  readonly result: ImportResultCode;
  /** Files stored by this run. */
  readonly imported: readonly ImportedFile[];
  /** Files already on the contract before this run (a re-send or a resumed run). */
  readonly alreadyPresent: readonly string[];
  readonly skipped: readonly SkippedFile[];
  /** Attachments found on the deal (before the name filter / selection). */
  readonly attachmentsFound: number;
  readonly trigger: 'workflow' | 'card' | 'stage_rule';
  readonly finishedAt: string;
}

/** A failure that ends the import now (retrying cannot help). */
class ImportFailure extends Error {
  readonly code: ImportResultCode;
  constructor(code: ImportResultCode, message: string) {
    super(message);
    this.name = 'ImportFailure';
    this.code = code;
  }
}

const DOWNLOAD_ATTEMPTS = 3;

const tokenDeps = hubSpotTokenDeps;

/** Maps any error to (code, message, whether a later retry may help). */
export function classifyImportError(error: unknown): {
  code: ImportResultCode;
  message: string;
  transient: boolean;
} {
  if (error instanceof ImportFailure)
    return { code: error.code, message: error.message, transient: false };
  if (error instanceof PortalNeedsReconnectError) {
    return { code: 'portal_needs_reconnect', message: error.message, transient: false };
  }
  if (error instanceof PortalNotConnectedError) {
    return { code: 'portal_not_connected', message: error.message, transient: false };
  }
  if (error instanceof DealNotFoundError) {
    return { code: 'deal_not_found', message: error.message, transient: false };
  }
  if (error instanceof HubSpotApiError) {
    return {
      code: error.retryable ? 'hubspot_unavailable' : 'import_failed',
      message: error.message,
      transient: error.retryable,
    };
  }
  if (error instanceof DownloadError) {
    return { code: 'hubspot_unavailable', message: error.message, transient: error.transient };
  }
  if (error instanceof HubSpotResponseShapeError) {
    return { code: 'import_failed', message: error.message, transient: false };
  }
  // Database hiccups, crashes of a dependency: worth another attempt.
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'import_failed', message, transient: true };
}

interface FileOutcome {
  readonly kind: 'imported' | 'present' | 'skipped';
  readonly imported?: ImportedFile;
  readonly skipped?: SkippedFile;
}

/** What the import decides about an attachment from its metadata, before any download. */
export type BeforeDownload =
  | { readonly kind: 'not_selected'; readonly name: string }
  | { readonly kind: 'skip'; readonly name: string; readonly reason: SkipReason }
  | {
      readonly kind: 'download';
      readonly attachment: DealAttachment;
      readonly type: AllowedFileType;
    };

/**
 * The import's selection, shared with the dry run: the name filter first (a file it leaves
 * out is not reported), then what its metadata says (sensitive, archived, type, size).
 */
export function beforeDownload(
  fileId: string,
  metadata: FileMetadata | undefined,
  fileFilter: FileFilter,
  maxBytes: number,
): BeforeDownload {
  const attachment = classifyAttachment(fileId, metadata, maxBytes);
  if (!fileFilterMatcher(fileFilter)(attachment.name)) {
    return { kind: 'not_selected', name: attachment.name };
  }
  if (!attachment.importable || !metadata) {
    return {
      kind: 'skip',
      name: attachment.name,
      reason: attachment.reason ?? 'sensitive_or_unavailable',
    };
  }
  const type = allowedTypeFor(metadata.extension, metadata.name);
  if (!type) return { kind: 'skip', name: attachment.name, reason: 'type_not_allowed' };
  return { kind: 'download', attachment, type };
}

async function importOneFile(
  deps: ImportJobDeps,
  payload: ImportDealPayload,
  fileId: string,
  signal: AbortSignal,
): Promise<FileOutcome | undefined> {
  const td = tokenDeps(deps);
  const maxBytes = deps.config.importMaxFileBytes ?? DEFAULT_IMPORT_MAX_FILE_BYTES;
  const metadata = await fetchFileMetadata(td, payload.portalId, fileId, { signal });
  const decision = beforeDownload(fileId, metadata, payload.fileFilter, maxBytes);
  if (decision.kind === 'not_selected') return undefined;
  if (decision.kind === 'skip') {
    return { kind: 'skipped', skipped: { fileId, name: decision.name, reason: decision.reason } };
  }
  const { attachment, type } = decision;
  const skip = (reason: SkipReason, message?: string): FileOutcome => ({
    kind: 'skipped',
    skipped: { fileId, name: attachment.name, reason, ...(message ? { message } : {}) },
  });

  const policy = downloadPolicy(deps.config.hubspot);
  for (let attempt = 1; ; attempt += 1) {
    // A fresh signed URL per attempt: they expire, and only HubSpot's answer is fetched.
    const signed = await fetchSignedUrl(td, payload.portalId, fileId, { signal });
    if (!signed) return skip('sensitive_or_unavailable');
    if (signed.size !== undefined && signed.size > maxBytes) return skip('too_large');
    try {
      const bytes = await openDownload(signed.url, { policy, type, maxBytes, signal });
      const stored = await writeContractFile(
        deps.db,
        {
          organizationId: payload.organizationId,
          contractId: payload.contractId,
          name: attachment.name,
          contentType: type.contentType,
          externalFileId: fileId,
        },
        bytes,
        { maxBytes, actor: payload.actor },
      );
      if (stored.duplicate) return skip('duplicate');
      return {
        kind: 'imported',
        imported: {
          fileId,
          contractFileId: stored.file.id,
          name: stored.file.name,
          sizeBytes: stored.file.sizeBytes,
          sha256: stored.file.sha256,
        },
      };
    } catch (error) {
      if (error instanceof ContractFileTooLargeError) return skip('too_large');
      if (!(error instanceof DownloadError)) throw error;
      if (error.reason === 'too_large') return skip('too_large');
      if (error.reason === 'type_not_allowed') return skip('type_not_allowed');
      if (error.reason === 'unavailable') return skip('sensitive_or_unavailable');
      if (error.reason === 'url_not_allowed') {
        // The host only: the URL's path and query carry the signed token.
        deps.log.warn(
          { fileId, portalId: payload.portalId, host: error.host ?? null },
          'attachment download URL refused',
        );
        return skip(
          'download_refused',
          error.host !== undefined ? `download host not allowed: ${error.host}` : undefined,
        );
      }
      if (!error.transient || attempt >= DOWNLOAD_ATTEMPTS) throw error;
      deps.log.warn(
        { fileId, portalId: payload.portalId, attempt, reason: error.message },
        'attachment download failed; retrying',
      );
      await sleep(backoffDelayMs(attempt, { baseMs: 500, maxMs: 5_000 }), undefined, { signal });
    }
  }
}

/** Fetches everything and stores the files; returns the summary (no contract state change). */
async function runImport(
  deps: ImportJobDeps,
  payload: ImportDealPayload,
  signal: AbortSignal,
): Promise<ImportSummary> {
  const td = tokenDeps(deps);
  const contract = await findImportedContract(deps.db, payload.organizationId, payload.contractId);
  if (!contract)
    throw new ImportFailure('import_failed', 'The contract was deleted during the import.');

  const {
    snapshot,
    context,
    mapping: mapped,
    refusal,
  } = await readMappedDeal(
    deps.db,
    td,
    { organizationId: payload.organizationId, portalId: payload.portalId, dealId: payload.dealId },
    { signal },
  );
  // An automatic send keeps the rule that sent it; a card or workflow send is routed now.
  const routing =
    payload.routing ??
    routedBy(
      await decideRouting(
        { db: deps.db, tokenDeps: td },
        {
          organizationId: payload.organizationId,
          portalId: payload.portalId,
          facts: routingFactsOf({
            pipelineId: snapshot.pipeline?.id ?? null,
            stageId: snapshot.stage?.id ?? null,
            amount: snapshot.amount,
            dealType: snapshot.dealType ?? null,
            mapped: mapped?.values,
          }),
        },
      ),
    );
  await recordSourceSnapshot(
    deps.db,
    contract.id,
    {
      ...snapshot,
      ...context,
      mapping: mapped,
      review: {
        trigger: payload.trigger,
        // The workflow action's explicit priority wins over the rule's.
        priority: payload.priority ?? routing.priority,
        queue: routing.queue,
        rule: routing.rule,
        rulesVersion: routing.rulesVersion,
        note: payload.note,
        requestedAt: payload.requestedAt,
      },
    },
    // The deal's name becomes the title at the first import; later re-sends keep it.
    contract.importSummary === null && snapshot.name ? snapshot.name : undefined,
  );
  await recordContractMetadata(deps.db, contract.id, mapped?.values ?? {}, mapped?.version ?? null);
  if (refusal !== null) throw new ImportFailure('mapping_incomplete', refusal);

  const refs = await listDealAttachmentRefs(td, payload.portalId, payload.dealId, { signal });
  const present = await listImportedExternalFileIds(deps.db, contract.id);
  const selected = payload.fileIds ? new Set(payload.fileIds) : undefined;

  const imported: ImportedFile[] = [];
  const alreadyPresent: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const ref of refs) {
    if (selected && !selected.has(ref.fileId)) continue;
    if (present.has(ref.fileId)) {
      alreadyPresent.push(ref.fileId);
      continue;
    }
    const outcome = await importOneFile(deps, payload, ref.fileId, signal);
    if (outcome?.imported) imported.push(outcome.imported);
    if (outcome?.skipped) skipped.push(outcome.skipped);
  }

  let result: ImportResultCode;
  if (refs.length === 0) result = 'no_attachments';
  else if (imported.length === 0 && alreadyPresent.length === 0)
    result = 'no_importable_attachments';
  else if (skipped.some((s) => s.reason !== 'duplicate')) result = 'imported_with_skips';
  else result = 'imported';
  return {
    result,
    imported,
    alreadyPresent,
    skipped,
    attachmentsFound: refs.length,
    trigger: payload.trigger,
    finishedAt: new Date().toISOString(),
  };
}

async function queueCallbackCompletion(
  trx: Kysely<DB>,
  jobs: JobQueue,
  payload: ImportDealPayload,
  outputFields: Record<string, string>,
): Promise<void> {
  if (payload.callbackId === undefined) return;
  await trx
    .updateTable('hubspot_workflow_executions')
    .set({ completion: JSON.stringify({ outputFields }) })
    .where('portal_id', '=', payload.portalId)
    .where('callback_id', '=', payload.callbackId)
    .execute();
  await jobs.send(trx, completeWorkflowCallbackJob, {
    portalId: payload.portalId,
    callbackId: payload.callbackId,
    outputFields,
  });
}

async function finishImport(
  deps: ImportJobDeps,
  payload: ImportDealPayload,
  summary: ImportSummary,
): Promise<void> {
  const url = contractUrl(deps.config.publicBaseUrl, payload.contractId);
  await deps.db.transaction().execute(async (trx) => {
    const contract = await setImportOutcome(trx, payload.organizationId, payload.contractId, {
      state: 'complete',
      summary,
    });
    if (!contract) return;
    await enqueueDealSync(trx, deps.jobs, {
      organizationId: payload.organizationId,
      portalId: payload.portalId,
      dealId: payload.dealId,
      contractId: contract.id,
      status: contract.negotiationStatus,
      contractUrl: url,
    });
    await recordAudit(trx, {
      organizationId: payload.organizationId,
      actor: payload.actor,
      action: 'contract.imported',
      target: `contract:${contract.id}`,
      outcome: 'success',
      details: {
        result: summary.result,
        imported: summary.imported.length,
        skipped: summary.skipped.length,
        already_present: summary.alreadyPresent.length,
      },
    });
    // "Sent to legal" on the deal's timeline (once per contract: a re-send finds it written).
    await enqueueTimelineNote(trx, deps.jobs, {
      organizationId: payload.organizationId,
      contractId: contract.id,
      portalId: payload.portalId,
      dealId: payload.dealId,
      event: { kind: 'sent' },
    });
    await queueCallbackCompletion(trx, deps.jobs, payload, {
      hs_execution_state: 'SUCCESS',
      contract_id: contract.id,
      contract_url: url,
      import_result: summary.result,
    });
  });
}

/**
 * Marks the import failed on both sides. Decided under the contract's row lock: only a
 * contract still `importing` is failed (a job that lost a race with the sweep, or the sweep
 * with a re-send that started a new import, changes nothing and tells HubSpot nothing twice);
 * `stuckBefore` (the sweep) also requires no progress since then. Returns whether it acted.
 */
async function failImport(
  deps: ImportJobDeps,
  payload: ImportDealPayload,
  failure: { code: ImportResultCode; message: string },
  options: { stuckBefore?: Date } = {},
): Promise<boolean> {
  const url = contractUrl(deps.config.publicBaseUrl, payload.contractId);
  return deps.db.transaction().execute(async (trx) => {
    const current = await findImportedContract(trx, payload.organizationId, payload.contractId, {
      lockForUpdate: true,
    });
    if (
      current &&
      (current.importState !== 'importing' ||
        (options.stuckBefore !== undefined && current.updatedAt >= options.stuckBefore))
    ) {
      return false;
    }
    if (current) {
      // A re-send onto a contract that was imported before keeps it usable (and the deal at
      // its true status); a first import that failed is marked failed on both sides.
      const importedBefore = current.importSummary !== null;
      const error = `${failure.code}: ${failure.message}`;
      await setImportOutcome(
        trx,
        payload.organizationId,
        current.id,
        importedBefore ? { state: 'complete_with_error', error } : { state: 'failed', error },
      );
      await enqueueDealSync(trx, deps.jobs, {
        organizationId: payload.organizationId,
        portalId: payload.portalId,
        dealId: payload.dealId,
        contractId: current.id,
        status: importedBefore ? current.negotiationStatus : 'import_failed',
        contractUrl: url,
      });
      await recordAudit(trx, {
        organizationId: payload.organizationId,
        actor: payload.actor,
        action: 'contract.imported',
        target: `contract:${current.id}`,
        outcome: 'failure',
        details: { result: failure.code, reason: failure.message.slice(0, 500) },
      });
    }
    await queueCallbackCompletion(trx, deps.jobs, payload, {
      hs_execution_state: 'FAIL_CONTINUE',
      contract_id: payload.contractId,
      contract_url: url,
      import_result: failure.code,
    });
    return true;
  });
}

/** The job handler: import, then finish; transient failures retry, the last one fails cleanly. */
export async function handleImportDealJob(
  deps: ImportJobDeps,
  payload: ImportDealPayload,
  job: { id: string; retryCount: number; signal: AbortSignal },
): Promise<void> {
  let summary: ImportSummary;
  const startedAt = performance.now();
  const seconds = () => (performance.now() - startedAt) / 1000;
  try {
    summary = await runImport(deps, payload, job.signal);
  } catch (error) {
    const failure = classifyImportError(error);
    importDurationSeconds.observe({ result: failure.code }, seconds());
    if (failure.transient && job.retryCount < IMPORT_RETRY_LIMIT) {
      deps.log.warn(
        {
          job: job.id,
          contractId: payload.contractId,
          retry: job.retryCount,
          reason: failure.message,
        },
        'deal import failed; it will be retried',
      );
      throw error;
    }
    deps.log.error(
      { job: job.id, contractId: payload.contractId, code: failure.code, reason: failure.message },
      'deal import failed',
    );
    await failImport(deps, payload, failure);
    return;
  }
  await finishImport(deps, payload, summary);
  importDurationSeconds.observe({ result: summary.result }, seconds());
  importBytes.inc(summary.imported.reduce((sum, file) => sum + file.sizeBytes, 0));
  deps.log.info(
    {
      job: job.id,
      contractId: payload.contractId,
      result: summary.result,
      imported: summary.imported.length,
      skipped: summary.skipped.length,
    },
    'deal imported',
  );
}

/** Stuck imports finished per sweep, at most (the rest wait for the next one). */
const STUCK_IMPORTS_PER_SWEEP = 100;

/**
 * The import job that should have finished `contract` as it was enqueued, or (when pg-boss
 * no longer holds it) rebuilt from the contract and its blocked workflow execution.
 */
async function stuckImportPayload(
  deps: ImportJobDeps,
  contract: { id: string; organizationId: string; externalAccountId: string; externalId: string },
  jobs: ReadonlyArray<{ data: unknown }>,
): Promise<ImportDealPayload> {
  for (const job of [...jobs].reverse()) {
    const parsed = importDealJob.schema.safeParse(job.data);
    if (parsed.success) return parsed.data;
  }
  const execution = await deps.db
    .selectFrom('hubspot_workflow_executions')
    .select('callback_id')
    .where('portal_id', '=', contract.externalAccountId)
    .where('contract_id', '=', contract.id)
    .where('state', '=', 'blocked')
    .where('completion', 'is', null)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return importDealJob.schema.parse({
    organizationId: contract.organizationId,
    portalId: contract.externalAccountId,
    dealId: contract.externalId,
    contractId: contract.id,
    trigger: execution ? 'workflow' : 'card',
    actor: 'system:import-sweep',
    requestedAt: new Date().toISOString(),
    ...(execution ? { callbackId: execution.callback_id } : {}),
  });
}

/**
 * Fails imports that nothing will finish: still `importing` after `stuckAfterSeconds` while
 * no job for the contract is queued, waiting to retry or running (a worker killed during the
 * last retry, a job deleted). Like a last failed attempt: the contract is marked failed, the
 * deal gets `import_failed` (or keeps its status after an earlier import) and a blocked
 * workflow execution is completed. Returns how many were failed.
 */
export async function failStuckImports(
  deps: ImportJobDeps,
  options: { stuckAfterSeconds: number },
): Promise<number> {
  const stuckBefore = new Date(Date.now() - options.stuckAfterSeconds * 1000);
  const stuck = await listStuckImports(deps.db, {
    source: 'hubspot',
    updatedBefore: stuckBefore,
    limit: STUCK_IMPORTS_PER_SWEEP,
  });
  let failed = 0;
  for (const contract of stuck) {
    if (contract.externalAccountId === null || contract.externalId === null) continue;
    const jobs = await deps.jobs.findJobs(importDealJob, { contractId: contract.id });
    if (jobs.some((job) => LIVE_JOB_STATES.has(job.state))) continue;
    const payload = await stuckImportPayload(
      deps,
      {
        id: contract.id,
        organizationId: contract.organizationId,
        externalAccountId: contract.externalAccountId,
        externalId: contract.externalId,
      },
      jobs,
    );
    deps.log.warn(
      { contractId: contract.id, jobs: jobs.map((job) => job.state) },
      'deal import stopped without finishing; marking it failed',
    );
    const acted = await failImport(
      deps,
      payload,
      {
        code: 'import_failed',
        message: 'The import stopped before it finished (its worker was lost).',
      },
      { stuckBefore },
    );
    if (acted) failed += 1;
  }
  return failed;
}
