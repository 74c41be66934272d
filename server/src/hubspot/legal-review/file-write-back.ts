import type { Kysely } from 'kysely';
import { z } from 'zod';

import { recordAudit } from '../../core/audit/audit-log.ts';
import { contractUrl, type ContractFile } from '../../core/contracts/contract.ts';
import { openContractFileStream } from '../../core/contracts/contract-files.ts';
import { getContractDetail } from '../../core/contracts/contracts-service.ts';
import { newestReviewedFiles } from '../../core/contracts/reviewed-files.ts';
import { getOrganizationIntegration } from '../../core/integrations/organization-integrations.ts';
import type { DB } from '../../platform/db/schema.ts';
import { escapeHtml } from '../../platform/http/html.ts';
import { defineJob, type JobQueue } from '../../platform/jobs/queue.ts';
import type { WorkerDeps } from '../../platform/jobs/worker-deps.ts';
import { hubSpotTokenDeps, type HubSpotTokenDeps } from '../client/access-tokens.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest } from '../client/portal-client.ts';
import { FileMetadataSchema } from '../wire/index.ts';
import {
  createDealNote,
  describeHubSpotError,
  missingScopes,
  NOTE_SCOPES,
  REAUTHORIZE_PATH,
} from './deal-notes.ts';
import { getHubSpotSettings } from './settings-store.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * The reviewed paper written back to the deal (issue 15 item 2). When a HubSpot contract
 * reaches `approved` or `signed`, the contract hooks enqueue this job in the status change's
 * transaction; it uploads the newest reviewed files (legal's uploads that no later version
 * replaces) to HubSpot Files — private, in the app's folder — and writes one note on the
 * deal that attaches them and says what they are.
 *
 * Idempotent per (contract, file): `hubspot_file_writebacks` records each HubSpot file id
 * and note id as soon as HubSpot returns it, so a retried or replayed job skips what is done.
 * The upload itself is idempotent too (`overwrite` on a name unique to the file version), so
 * a crash between HubSpot's answer and our record replaces the same file instead of adding
 * a copy. A note has no such key: a crash in that one window can leave one extra note.
 */

/** What writing back needs beyond the required scopes: Files upload, note creation. */
export const WRITE_BACK_SCOPES = ['files', ...NOTE_SCOPES] as const;

/** The HubSpot Files folder the app writes into (created by HubSpot on first upload). */
export const WRITE_BACK_FOLDER_PATH = '/LexiContract';

export { REAUTHORIZE_PATH };
export const REAUTHORIZE_MESSAGE = 're-authorize to write files back';

/** Decisions whose paper is written back. */
export const WRITE_BACK_DECISIONS = ['approved', 'signed'] as const;

export const writeBackFilesJob = defineJob({
  name: 'hubspot-write-back-files',
  schema: z.object({
    organizationId: z.uuid(),
    contractId: z.uuid(),
    portalId: z.string().regex(/^\d+$/),
    dealId: z.string().min(1),
    decision: z.enum(WRITE_BACK_DECISIONS),
  }),
  retryLimit: 5,
  retryDelaySeconds: 10,
  expireInSeconds: 30 * 60,
  concurrency: 2,
});

export type WriteBackFilesPayload = z.output<typeof writeBackFilesJob.schema>;

/** The scopes of `WRITE_BACK_SCOPES` the portal has not granted. */
export function missingWriteBackScopes(grantedScopes: readonly string[]): string[] {
  return missingScopes(WRITE_BACK_SCOPES, grantedScopes);
}

/** Whether the organization's HubSpot connection lacks what writing back needs. */
export async function writeBackNeedsReauthorization(
  db: Kysely<DB>,
  organizationId: string,
): Promise<boolean> {
  const integration = await getOrganizationIntegration(db, organizationId, 'hubspot');
  if (!integration) return false;
  return missingWriteBackScopes(integration.granted_scopes).length > 0;
}

/** What the card, the settings page and the integrations page show when scopes are missing. */
export async function writeBackNotice(
  db: Kysely<DB>,
  organizationId: string,
  publicBaseUrl: string,
): Promise<{ message: string; reauthorizeUrl: string } | null> {
  if (!(await writeBackNeedsReauthorization(db, organizationId))) return null;
  return {
    message:
      'LexiContract cannot put reviewed files on deals yet: re-authorize to write files back ' +
      '(it needs HubSpot Files and notes access). Everything else keeps working.',
    reauthorizeUrl: `${publicBaseUrl}${REAUTHORIZE_PATH}`,
  };
}

/** Called by the contract hooks inside the status change's transaction. */
export async function enqueueFileWriteBack(
  trx: Kysely<DB>,
  jobs: JobQueue,
  payload: WriteBackFilesPayload,
): Promise<void> {
  await jobs.send(trx, writeBackFilesJob, payload, {
    singletonKey: `${payload.contractId}:${payload.decision}`,
  });
}

/** A name unique to the file version, so `overwrite` makes a re-upload replace, not copy. */
export function writeBackFileName(file: ContractFile): string {
  const dot = file.name.lastIndexOf('.');
  const stem = dot > 0 ? file.name.slice(0, dot) : file.name;
  const ext = dot > 0 ? file.name.slice(dot) : '';
  return `${stem} (LexiContract ${file.sha256.slice(0, 12)})${ext}`;
}

async function setRow(
  db: Kysely<DB>,
  key: { contractId: string; fileId: string },
  values: {
    state: 'pending' | 'uploaded' | 'written' | 'failed' | 'skipped';
    hubspot_file_id?: string;
    hubspot_note_id?: string;
    last_error?: string | null;
  },
): Promise<void> {
  await db
    .updateTable('hubspot_file_writebacks')
    .set({ ...values, updated_at: new Date() })
    .where('contract_id', '=', key.contractId)
    .where('file_id', '=', key.fileId)
    .execute();
}

function noteBody(input: {
  title: string;
  decision: string;
  reviewer: string | null;
  decidedAt: Date | null;
  url: string;
  files: readonly ContractFile[];
}): string {
  const decided = input.decision === 'signed' ? 'Signed' : 'Approved';
  const by = input.reviewer ? ` by ${escapeHtml(input.reviewer)}` : '';
  const when = input.decidedAt ? ` on ${input.decidedAt.toISOString().slice(0, 10)}` : '';
  const files = input.files
    .map(
      (f) => `<li>${escapeHtml(f.name)} (${String(f.sizeBytes)} bytes, SHA-256 ${f.sha256})</li>`,
    )
    .join('');
  return (
    `<p><strong>LexiContract: reviewed contract “${escapeHtml(input.title)}”</strong></p>` +
    `<p>Decision: ${decided}${by}${when}.</p>` +
    `<p>Reviewed files attached:</p><ul>${files}</ul>` +
    `<p><a href="${escapeHtml(input.url)}">Open in LexiContract</a></p>`
  );
}

export async function handleWriteBackFilesJob(
  deps: WorkerDeps,
  payload: WriteBackFilesPayload,
  signal?: AbortSignal,
): Promise<void> {
  await writeBackFiles(
    { db: deps.db, tokenDeps: hubSpotTokenDeps(deps), publicBaseUrl: deps.config.publicBaseUrl },
    payload,
    signal,
  );
}

export async function writeBackFiles(
  deps: { db: Kysely<DB>; tokenDeps: HubSpotTokenDeps; publicBaseUrl: string },
  payload: WriteBackFilesPayload,
  signal?: AbortSignal,
): Promise<void> {
  const { db } = deps;
  const settings = await getHubSpotSettings(db, payload.organizationId);
  if (!settings.writeBackFiles) return;
  const detail = await getContractDetail(db, payload.organizationId, payload.contractId);
  const files = await newestReviewedFiles(db, payload.organizationId, payload.contractId);
  if (files.length === 0) return;

  for (const file of files) {
    await db
      .insertInto('hubspot_file_writebacks')
      .values({
        contract_id: payload.contractId,
        file_id: file.id,
        organization_id: payload.organizationId,
        portal_id: payload.portalId,
        deal_id: payload.dealId,
      })
      .onConflict((oc) => oc.columns(['contract_id', 'file_id']).doNothing())
      .execute();
  }
  const rows = await db
    .selectFrom('hubspot_file_writebacks')
    .selectAll()
    .where('contract_id', '=', payload.contractId)
    .where(
      'file_id',
      'in',
      files.map((f) => f.id),
    )
    .execute();
  const byFile = new Map(rows.map((r) => [r.file_id, r]));
  const todo = files.filter((f) => byFile.get(f.id)?.state !== 'written');
  if (todo.length === 0) return;

  const integration = await getOrganizationIntegration(db, payload.organizationId, 'hubspot');
  const missing = missingWriteBackScopes(integration?.granted_scopes ?? []);
  if (missing.length > 0) {
    for (const file of todo) {
      await setRow(
        db,
        { contractId: payload.contractId, fileId: file.id },
        {
          state: 'skipped',
          last_error: `Not written back: the portal has not granted ${missing.join(', ')}; ${REAUTHORIZE_MESSAGE}.`,
        },
      );
    }
    return;
  }

  const key = (file: ContractFile) => ({ contractId: payload.contractId, fileId: file.id });
  const fail = async (error: unknown, which: readonly ContractFile[]) => {
    const scopeProblem =
      error instanceof HubSpotApiError && error.status === 403 ? `; ${REAUTHORIZE_MESSAGE}` : '';
    for (const file of which) {
      await db
        .updateTable('hubspot_file_writebacks')
        .set((eb) => ({
          state: scopeProblem ? 'skipped' : 'failed',
          last_error: `Writing the file back failed: ${describeHubSpotError(error)}${scopeProblem}`,
          attempts: eb('attempts', '+', 1),
          updated_at: new Date(),
        }))
        .where('contract_id', '=', payload.contractId)
        .where('file_id', '=', file.id)
        .execute();
    }
    // Worth another try later (pg-boss retries the job); anything else waits for a person.
    if (error instanceof HubSpotApiError && error.retryable) throw error;
    if (!(error instanceof HubSpotApiError)) throw error;
  };

  const hubspotFileIds = new Map<string, string>();
  for (const file of todo) {
    const existing = byFile.get(file.id)?.hubspot_file_id;
    if (existing) {
      hubspotFileIds.set(file.id, existing);
      continue;
    }
    try {
      const uploaded = await portalRequest(
        deps.tokenDeps,
        payload.portalId,
        {
          method: 'POST',
          path: hubspotPaths.fileUpload(),
          multipart: {
            fields: {
              folderPath: WRITE_BACK_FOLDER_PATH,
              fileName: writeBackFileName(file),
              options: JSON.stringify({ access: 'PRIVATE', overwrite: true }),
            },
            file: {
              fieldName: 'file',
              fileName: writeBackFileName(file),
              contentType: file.contentType,
              open: () => openStream(db, file),
            },
          },
          timeoutMs: 120_000 + Math.ceil(file.sizeBytes / (1024 * 1024)) * 1_000,
        },
        FileMetadataSchema,
        { rateLane: 'sync', ...(signal ? { signal } : {}) },
      );
      hubspotFileIds.set(file.id, uploaded.body.id);
      await setRow(db, key(file), {
        state: 'uploaded',
        hubspot_file_id: uploaded.body.id,
        last_error: null,
      });
    } catch (error) {
      await fail(error, [file]);
      return;
    }
  }

  const decision = [...detail.history].reverse().find((c) => c.to === payload.decision);
  try {
    const noteId = await createDealNote(
      deps.tokenDeps,
      payload.portalId,
      {
        dealId: payload.dealId,
        body: noteBody({
          title: detail.contract.title,
          decision: payload.decision,
          reviewer: decision?.actor ?? null,
          decidedAt: decision?.at ?? null,
          url: contractUrl(deps.publicBaseUrl, payload.contractId),
          files: todo,
        }),
        attachmentIds: todo.map((f) => hubspotFileIds.get(f.id) ?? ''),
      },
      signal,
    );
    await db.transaction().execute(async (trx) => {
      for (const file of todo) {
        await setRow(trx, key(file), {
          state: 'written',
          hubspot_note_id: noteId,
          last_error: null,
        });
      }
      await recordAudit(trx, {
        organizationId: payload.organizationId,
        actor: 'system',
        action: 'hubspot.files_written_back',
        target: `contract:${payload.contractId}`,
        outcome: 'success',
        details: {
          deal_id: payload.dealId,
          note_id: noteId,
          file_ids: todo.map((f) => f.id),
        },
      });
    });
  } catch (error) {
    await fail(error, todo);
  }
}

async function* openStream(db: Kysely<DB>, file: ContractFile): AsyncGenerator<Uint8Array> {
  const { stream } = await openContractFileStream(
    db,
    file.organizationId,
    file.contractId,
    file.id,
  );
  for await (const chunk of stream) yield chunk as Buffer;
}

/** The write-back problem of each contract that has one (contract page's sync state). */
export async function fileWriteBackProblems(
  db: Kysely<DB>,
  organizationId: string,
  contractIds: readonly string[],
): Promise<Map<string, string>> {
  if (contractIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('hubspot_file_writebacks')
    .select(['contract_id', 'last_error', 'updated_at'])
    .where('organization_id', '=', organizationId)
    .where('contract_id', 'in', [...contractIds])
    .where('state', 'in', ['failed', 'skipped'])
    .orderBy('updated_at')
    .execute();
  return new Map(rows.map((r) => [r.contract_id, r.last_error ?? 'Writing the files back failed']));
}
