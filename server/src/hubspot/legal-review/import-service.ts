import { sql, type Kysely } from 'kysely';

import { recordAudit } from '../../core/audit/audit-log.ts';
import type { AppConfig } from '../../platform/config/runtime.ts';
import type { Contract } from '../../core/contracts/contract.ts';
import { createContract } from '../../core/contracts/contracts-service.ts';
import {
  findContractsByExternalRef,
  markImportStarted,
} from '../../core/contracts/external-records.ts';
import type { DB } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { contractUrl } from '../../core/contracts/contract.ts';
import { enqueueDealSync } from '../outbox/deal-sync-outbox.ts';
import type { FileFilter } from './file-policy.ts';
import { importDealJob, type Routed } from './job-definitions.ts';

/**
 * "Send to legal review" for a HubSpot deal, whoever asks (the workflow action, the Deal
 * card): finds the deal's open contract or creates the contract shell, marks it importing,
 * puts `importing` into the deal-sync outbox and queues the import job, all in the caller's
 * transaction (or one of its own). Only local writes: every HubSpot call happens in the job.
 */

export const REVIEW_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type ReviewPriority = (typeof REVIEW_PRIORITIES)[number];

export interface LegalReviewDeps {
  readonly db: Kysely<DB>;
  readonly jobs: JobQueue;
  readonly config: Pick<AppConfig, 'publicBaseUrl'>;
}

export interface LegalReviewRequest {
  /** The organization the signed portal id maps to (never a body field). */
  readonly organizationId: string;
  readonly portalId: string;
  readonly dealId: string;
  readonly trigger: 'workflow' | 'card' | 'stage_rule';
  /** Audit actor, e.g. `hubspot:portal:123:workflow:456` or `hubspot:user:789`. */
  readonly actor: string;
  /** Which attachments: all (default) or those whose name matches a pattern. */
  readonly fileFilter?: FileFilter;
  /** Only these HubSpot file ids (the card's selection). */
  readonly fileIds?: readonly string[];
  /** Create a new contract even if the deal has an open one. */
  readonly newVersion?: boolean;
  readonly note?: string | null;
  /** An explicit priority (the workflow action's input); else the routing rules decide. */
  readonly priority?: ReviewPriority;
  /** Routing already decided (an automatic send by a rule). */
  readonly routing?: Routed;
  /** A provisional title until the job has read the deal (e.g. from the workflow request). */
  readonly dealName?: string | null;
  /** The workflow execution to complete when the import ends. */
  readonly callbackId?: string;
}

export interface LegalReviewRequested {
  readonly contract: Contract;
  /** False when the deal's open contract was returned. */
  readonly created: boolean;
  readonly importJobQueued: boolean;
}

const MAX_NOTE = 5000;

/** The deal's newest open contract imported from HubSpot, if any. */
export async function findOpenDealContract(
  db: Kysely<DB>,
  organizationId: string,
  portalId: string,
  dealId: string,
): Promise<Contract | undefined> {
  const [open] = await findContractsByExternalRef(
    db,
    { organizationId, source: 'hubspot', accountId: portalId, externalId: dealId },
    { openOnly: true, limit: 1 },
  );
  return open;
}

export async function requestLegalReview(
  deps: LegalReviewDeps,
  input: LegalReviewRequest,
  trx?: Kysely<DB>,
): Promise<LegalReviewRequested> {
  return inTransaction(trx ?? deps.db, async (t) => {
    // One request per deal at a time: two clicks (or a click and a workflow) cannot both
    // decide that the deal has no open contract and create two.
    await sql`select pg_advisory_xact_lock(hashtextextended(${`hubspot-deal:${input.organizationId}:${input.portalId}:${input.dealId}`}, 0))`.execute(
      t,
    );
    let contract =
      input.newVersion === true
        ? undefined
        : await findOpenDealContract(t, input.organizationId, input.portalId, input.dealId);
    const created = contract === undefined;
    if (!contract) {
      const name = input.dealName?.trim();
      contract = await createContract(t, {
        organizationId: input.organizationId,
        title: name && name.length > 0 ? name.slice(0, 500) : `HubSpot deal ${input.dealId}`,
        externalSource: 'hubspot',
        externalId: input.dealId,
        externalAccountId: input.portalId,
        createdBySource: `hubspot_${input.trigger}`,
        actor: input.actor,
        sourceSnapshot: { source: 'hubspot', portalId: input.portalId, dealId: input.dealId },
      });
    } else {
      await recordAudit(t, {
        organizationId: input.organizationId,
        actor: input.actor,
        action: 'contract.import_requested',
        target: `contract:${contract.id}`,
        outcome: 'success',
        details: { trigger: input.trigger, deal_id: input.dealId, portal_id: input.portalId },
      });
    }
    await markImportStarted(t, contract.id);
    const url = contractUrl(deps.config.publicBaseUrl, contract.id);
    await enqueueDealSync(t, deps.jobs, {
      organizationId: input.organizationId,
      portalId: input.portalId,
      dealId: input.dealId,
      contractId: contract.id,
      status: 'importing',
      contractUrl: url,
    });
    const jobId = await deps.jobs.send(t, importDealJob, {
      organizationId: input.organizationId,
      portalId: input.portalId,
      dealId: input.dealId,
      contractId: contract.id,
      trigger: input.trigger,
      actor: input.actor,
      fileFilter: input.fileFilter ?? { mode: 'all' },
      ...(input.fileIds !== undefined ? { fileIds: [...input.fileIds] } : {}),
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      ...(input.routing !== undefined ? { routing: input.routing } : {}),
      note: input.note ? input.note.slice(0, MAX_NOTE) : null,
      ...(input.callbackId !== undefined ? { callbackId: input.callbackId } : {}),
      requestedAt: new Date().toISOString(),
    });
    return { contract, created, importJobQueued: jobId !== null };
  });
}
