import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

import { attachmentDisposition } from '../api/presenters.ts';
import { openContractFileStream } from '../core/contracts/contract-files.ts';
import { changeContractStatus, getContractDetail } from '../core/contracts/contracts-service.ts';
import {
  InvalidStatusTransitionError,
  StatusVersionConflictError,
} from '../core/contracts/errors.ts';
import {
  allowedNextStatuses,
  NEGOTIATION_STATUS_LABELS,
  NEGOTIATION_STATUSES,
  NegotiationStatusSchema,
} from '../core/contracts/status.ts';
import { findImportedContract, searchContracts } from '../core/contracts/external-records.ts';
import { NotFoundError } from '../platform/errors.ts';
import type { Contract } from '../core/contracts/contract.ts';
import type { ContractSyncState } from '../crm/port.ts';
import { parseInput } from '../platform/http/validation.ts';
import { isUuid } from '../core/organizations/organizations.ts';
import { html, type SafeHtml } from '../platform/http/html.ts';
import { describeActors } from './actors.ts';
import {
  contractMetadataHtml,
  recordSnapshotHtml,
  skippedAttachmentsHtml,
  syncRefreshSeconds,
} from './contract-sections.ts';
import { page, type Flash } from './layout.ts';
import { requireCsrf, requireMultipartCsrf, sessionOf } from '../core/auth/session-plugin.ts';
import { requireSignedIn } from './sign-in-gate.ts';
import fastifyMultipart from '@fastify/multipart';
import type { ContractFile } from '../core/contracts/contract.ts';
import { uploadReviewedFile } from '../core/contracts/reviewed-files.ts';
import { DEFAULT_IMPORT_MAX_FILE_BYTES } from '../platform/config/env.ts';
import { readFilePart } from '../platform/http/multipart-file.ts';

/**
 * The LexiContract contracts pages: the organization's contracts (filter by status, search
 * by deal), and one contract with its deal snapshot, files, status history, HubSpot sync
 * state and a status change form offering only the allowed next statuses.
 */

const STATUS_LABELS = NEGOTIATION_STATUS_LABELS;

function statusBadge(status: string): SafeHtml {
  const kind =
    status === 'approved' || status === 'signed'
      ? 'ok'
      : status === 'rejected' || status === 'cancelled'
        ? 'bad'
        : status === 'changes_requested'
          ? 'warn'
          : '';
  const label = (STATUS_LABELS as Record<string, string>)[status] ?? status;
  return html`<span class="badge ${kind}" data-testid="contract-status">${label}</span>`;
}

function statusLabel(status: string | null): string {
  if (status === null) return '';
  return (STATUS_LABELS as Record<string, string>)[status] ?? status;
}

/** "Open in HubSpot", to the record itself (when the adapter can say where it is). */
function recordLinkHtml(crmName: string, recordNoun: string, url: string | null): SafeHtml | null {
  if (!url) return null;
  return html`<p>
    <a href="${url}" target="_blank" rel="noopener noreferrer" data-testid="crm-record-link"
      >Open the ${recordNoun} in ${crmName} ↗</a
    >
  </p>`;
}

function when(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—';
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const ListQuerySchema = z.object({
  status: z.union([NegotiationStatusSchema, z.literal('')]).optional(),
  q: z.string().trim().max(200).optional(),
  notice: z.string().optional(),
});

const SYNC_NOTICES: Record<string, Flash> = {
  status_changed: {
    kind: 'success',
    message: 'Status changed. HubSpot is updated in the background.',
  },
  sync_retried: { kind: 'info', message: 'The HubSpot update is queued again.' },
  file_uploaded: { kind: 'success', message: 'Reviewed version uploaded.' },
  transition_refused: {
    kind: 'error',
    message: 'That status change is not allowed from the current status.',
  },
  changed_meanwhile: {
    kind: 'error',
    message: 'Someone changed this contract meanwhile. Review and try again.',
  },
};

/**
 * What the last import left out, read from its summary (adapter-defined JSON: entries of
 * `skipped` with a `name` and a `message` or `reason`), without knowing the adapter.
 */
function syncStateCell(sync: ContractSyncState | undefined): SafeHtml {
  if (!sync) return html`<span class="muted">—</span>`;
  if (sync.state === 'synced')
    return html`<span class="badge ok" data-testid="sync-state">Synced</span>`;
  if (sync.state === 'pending')
    return html`<span class="badge" data-testid="sync-state">Pending</span>`;
  if (sync.state === 'gone')
    return html`<span class="badge bad" data-testid="sync-state">Deal deleted</span>`;
  return html`<span class="badge bad" data-testid="sync-state">Failed</span>`;
}

export const contractsPages: FastifyPluginAsync = async (app) => {
  const hooks = app.crm.contractHooks(app.config, app.jobs);
  const sourceName = (source: string | null): string =>
    source === null ? 'LexiContract' : (app.crm.get(source)?.name ?? source);

  /** Each contract's CRM sync state, asked of the adapter it came from. */
  async function syncStatesOf(
    organizationId: string,
    contracts: readonly Contract[],
  ): Promise<Map<string, ContractSyncState>> {
    const states = new Map<string, ContractSyncState>();
    for (const adapter of app.crm.adapters) {
      const own = contracts.filter((c) => c.externalSource === adapter.id);
      if (own.length === 0) continue;
      for (const [id, state] of await adapter.syncStates(app.db, organizationId, own))
        states.set(id, state);
    }
    return states;
  }

  app.get('/contracts', { preHandler: requireSignedIn }, async (request, reply) => {
    const session = sessionOf(request);
    const query = parseInput(ListQuerySchema, request.query, 'filters');
    const rows = await searchContracts(app.db, session.organizationId, {
      ...(query.status ? { status: query.status } : {}),
      ...(query.q ? { q: query.q } : {}),
      limit: 200,
    });
    const syncStates = await syncStatesOf(session.organizationId, rows);
    const body = html` <h1>Contracts</h1>
      <p class="sub">Contracts sent to legal review, newest first.</p>
      <form method="get" action="/contracts" class="row mb-16">
        <input
          type="search"
          name="q"
          value="${query.q ?? ''}"
          placeholder="Deal id or title"
          class="grow"
        />
        <select name="status">
          <option value="">Any status</option>
          ${NEGOTIATION_STATUSES.map((s) => html`<option value="${s}" ${query.status === s ? html`selected` : null}>${STATUS_LABELS[s]}</option>`)}
        </select>
        <button type="submit" class="secondary">Filter</button>
      </form>
      <table>
        <thead>
          <tr>
            <th>Contract</th>
            <th>Status</th>
            <th>Source</th>
            <th>CRM record</th>
            <th>CRM sync</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          ${
            rows.length === 0
              ? html`<tr>
                  <td colspan="6" class="muted">
                    No
                    contracts${query.q || query.status ? ' match these filters' : ' yet. Send a deal to legal review from HubSpot'}.
                  </td>
                </tr>`
              : null
          }
          ${rows.map(
            (r) =>
              html`<tr>
                <td><a href="/contracts/${r.id}">${r.title}</a></td>
                <td>${statusBadge(r.negotiationStatus)}</td>
                <td>${sourceName(r.externalSource)}</td>
                <td>${r.externalId ?? '—'}</td>
                <td>${syncStateCell(syncStates.get(r.id))}</td>
                <td>${when(r.updatedAt)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`;
    return reply.type('text/html').send(
      page({
        title: 'Contracts',
        session,
        active: '/contracts',
        flash: query.notice ? (SYNC_NOTICES[query.notice] ?? null) : null,
        body,
      }),
    );
  });

  app.get('/contracts/:id', { preHandler: requireSignedIn }, async (request, reply) => {
    const session = sessionOf(request);
    const { id } = parseInput(z.object({ id: z.string().max(100) }), request.params, 'contract id');
    const { notice } = parseInput(
      z.object({ notice: z.string().max(50).optional() }),
      request.query,
      'query',
    );
    const detail = await getContractDetail(app.db, session.organizationId, id);
    const { contract } = detail;
    const adapter = app.crm.forContract(contract);
    const sync = (await syncStatesOf(session.organizationId, [contract])).get(contract.id);
    const next = allowedNextStatuses(contract.negotiationStatus);
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;
    const imported = await findImportedContract(app.db, session.organizationId, contract.id);
    const people = await describeActors(
      app.db,
      session.organizationId,
      detail.history.map((h) => h.actor),
    );
    const recordUrl = adapter?.recordUrl?.(contract) ?? null;

    const body = html` <p><a href="/contracts">← Contracts</a></p>
      <div class="row">
        <div class="grow">
          <h1>${contract.title}</h1>
          <p class="sub">
            ${statusBadge(contract.negotiationStatus)} · created ${when(contract.createdAt)} from
            ${contract.createdBySource}
          </p>
        </div>
      </div>

      <div class="card">
        <h2>Change status</h2>
        ${
          next.length === 0
            ? html`<p class="muted">
                This contract is ${STATUS_LABELS[contract.negotiationStatus].toLowerCase()}: a final
                status.
              </p>`
            : html`<form method="post" action="/contracts/${contract.id}/status" class="row">
                ${csrf}
                <input type="hidden" name="expected_version" value="${contract.statusVersion}" />
                <select name="negotiation_status" data-testid="next-status">
                  ${next.map((s) => html`<option value="${s}">${STATUS_LABELS[s]}</option>`)}
                </select>
                <button type="submit" data-testid="change-status">Change status</button>
              </form>`
        }
      </div>

      ${
        adapter
          ? html`<div class="card" data-testid="crm-sync">
              <h2>${adapter.name} ${adapter.recordNoun} ${contract.externalId ?? ''}</h2>
              ${recordLinkHtml(adapter.name, adapter.recordNoun, recordUrl)}
              <dl>
                <dt>${adapter.accountNoun}</dt>
                <dd>${contract.externalAccountId ?? '—'}</dd>
                <dt>Sync state</dt>
                <dd>
                  ${syncStateCell(sync)}
                  ${sync?.state === 'synced' ? html` <span class="muted">${adapter.recordNoun} shows ${statusLabel(sync.shownStatus)} since ${when(sync.shownSince)}</span>` : null}
                  ${sync?.state === 'pending' ? html` <span class="muted">sending ${statusLabel(sync.sendingStatus)}</span>` : null}
                </dd>
                ${
                  sync?.lastError
                    ? html`<dt>Last problem</dt>
                        <dd>${sync.lastError}</dd>`
                    : null
                }
              </dl>
              ${
                sync && sync.state !== 'synced'
                  ? html`<form method="post" action="/contracts/${contract.id}/sync" class="mt-12">
                      ${csrf}<button class="secondary" type="submit">Retry now</button>
                    </form>`
                  : null
              }
              ${recordSnapshotHtml(contract.sourceSnapshot, adapter.recordNoun)}
              ${adapter.snapshotDetailsHtml?.(contract.sourceSnapshot) ?? null}
            </div>`
          : null
      }
      ${contractMetadataHtml(contract.metadata, contract.metadataMappingVersion)}
      ${contractFilesSection(contract.id, detail.files, session.csrfToken, sync)}
      ${skippedAttachmentsHtml(imported?.importSummary)}

      <div class="card">
        <h2>Status history</h2>
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>From</th>
              <th>To</th>
              <th>Source</th>
              <th>Who</th>
            </tr>
          </thead>
          <tbody>
            ${[...detail.history].reverse().map(
              (h) =>
                html`<tr>
                  <td>${when(h.at)}</td>
                  <td>
                    ${h.from ? statusBadge(h.from) : html`<span class="muted">created</span>`}
                  </td>
                  <td>${statusBadge(h.to)}</td>
                  <td>${h.source}</td>
                  <td>${h.actor ? (people.get(h.actor) ?? h.actor) : '—'}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>`;
    return reply.type('text/html').send(
      page({
        title: contract.title,
        session,
        active: '/contracts',
        flash: notice ? (SYNC_NOTICES[notice] ?? null) : null,
        ...(syncRefreshSeconds(sync) ? { refreshSeconds: syncRefreshSeconds(sync) } : {}),
        body,
      }),
    );
  });

  app.post(
    '/contracts/:id/status',
    { preHandler: [requireSignedIn, requireCsrf] },
    async (request, reply) => {
      const session = sessionOf(request);
      const { id } = parseInput(
        z.object({ id: z.string().max(100) }),
        request.params,
        'contract id',
      );
      const form = parseInput(
        z.object({
          _csrf: z.string(),
          negotiation_status: NegotiationStatusSchema,
          expected_version: z.coerce.number().int().positive(),
        }),
        request.body,
        'status form',
      );
      try {
        await changeContractStatus(
          app.db,
          {
            organizationId: session.organizationId,
            contractId: id,
            to: form.negotiation_status,
            source: 'web',
            actor: `user:${session.userId}`,
            expectedVersion: form.expected_version,
          },
          hooks,
        );
      } catch (error) {
        if (error instanceof InvalidStatusTransitionError)
          return reply.redirect(`/contracts/${id}?notice=transition_refused`);
        if (error instanceof StatusVersionConflictError)
          return reply.redirect(`/contracts/${id}?notice=changed_meanwhile`);
        throw error;
      }
      return reply.redirect(`/contracts/${id}?notice=status_changed`);
    },
  );

  app.post(
    '/contracts/:id/sync',
    { preHandler: [requireSignedIn, requireCsrf] },
    async (request, reply) => {
      const session = sessionOf(request);
      const { id } = parseInput(
        z.object({ id: z.string().max(100) }),
        request.params,
        'contract id',
      );
      const { contract } = await getContractDetail(app.db, session.organizationId, id);
      const adapter = app.crm.forContract(contract);
      if (adapter) await adapter.retryContractSync(app.db, app.jobs, app.config, contract);
      return reply.redirect(`/contracts/${id}?notice=sync_retried`);
    },
  );

  await app.register(reviewedFileUploadRoute);

  app.get(
    '/contracts/:id/files/:fileId',
    { preHandler: requireSignedIn },
    async (request, reply) => {
      const session = sessionOf(request);
      const params = parseInput(
        z.object({ id: z.string().max(100), fileId: z.string().max(100) }),
        request.params,
        'file',
      );
      if (!isUuid(params.id) || !isUuid(params.fileId)) {
        throw new NotFoundError('contract_file_not_found', 'No such file');
      }
      const { file, stream } = await openContractFileStream(
        app.db,
        session.organizationId,
        params.id,
        params.fileId,
      );
      return reply
        .header('content-type', file.contentType)
        .header('content-length', String(file.sizeBytes))
        .header('content-disposition', attachmentDisposition(file.name))
        .header('x-content-type-options', 'nosniff')
        .send(stream);
    },
  );
};

/**
 * The contract's files as versions, oldest first (each says where it came from and which
 * version it replaces), and the form legal uploads a reviewed version with.
 */
function contractFilesSection(
  contractId: string,
  files: readonly ContractFile[],
  csrfToken: string,
  sync: ContractSyncState | undefined,
): SafeHtml {
  const versionOf = new Map(files.map((f, i) => [f.id, i + 1]));
  return html`<div class="card" data-testid="contract-files">
    <h2>Files</h2>
    ${
      files.length === 0
        ? html`<p class="muted">No files.</p>`
        : html`<table>
            <thead>
              <tr>
                <th>Version</th>
                <th>Name</th>
                <th>Origin</th>
                <th>Replaces</th>
                <th>Size</th>
                <th>SHA-256</th>
              </tr>
            </thead>
            <tbody>
              ${files.map(
                (f, i) =>
                  html`<tr data-testid="file-version">
                    <td>v${i + 1}</td>
                    <td>
                      <a href="/contracts/${contractId}/files/${f.id}" data-testid="contract-file"
                        >${f.name}</a
                      >
                    </td>
                    <td>
                      ${
                        f.origin === 'uploaded'
                          ? `Uploaded by legal${f.uploadedBy ? ` (${f.uploadedBy})` : ''}`
                          : 'Imported'
                      }
                    </td>
                    <td>
                      ${
                        f.replacesFileId && versionOf.has(f.replacesFileId)
                          ? `v${versionOf.get(f.replacesFileId) ?? ''}`
                          : '—'
                      }
                    </td>
                    <td>${formatBytes(f.sizeBytes)}</td>
                    <td><code>${f.sha256.slice(0, 12)}…</code></td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${
      sync?.filesWriteBackProblem
        ? html`<p class="mt-12" data-testid="files-write-back-problem">
            Reviewed files not written back: ${sync.filesWriteBackProblem}
          </p>`
        : null
    }
    ${reviewedFileUploadForm(contractId, csrfToken)}
  </div>`;
}

function reviewedFileUploadForm(contractId: string, csrfToken: string): SafeHtml {
  // `_csrf` comes before the file: the handler checks it before reading the file's bytes.
  return html`<form
    method="post"
    action="/contracts/${contractId}/files"
    enctype="multipart/form-data"
    class="row mt-12"
  >
    <input type="hidden" name="_csrf" value="${csrfToken}" />
    <input
      type="file"
      name="file"
      required
      accept=".pdf,.docx,.doc,.rtf,.txt"
      data-testid="reviewed-file"
    />
    <button type="submit" data-testid="upload-reviewed-file">Upload reviewed version</button>
  </form>`;
}

/** Legal's upload form target; multipart is parsed only here, as a stream. */
const reviewedFileUploadRoute: FastifyPluginAsync = async (app) => {
  await app.register(fastifyMultipart, { limits: { files: 1 } });
  const maxBytes = app.config.importMaxFileBytes ?? DEFAULT_IMPORT_MAX_FILE_BYTES;
  app.post(
    '/contracts/:id/files',
    { preHandler: requireSignedIn, config: { csrf: 'multipart_field' } },
    async (request, reply) => {
      const session = sessionOf(request);
      const { id } = parseInput(
        z.object({ id: z.string().max(100) }),
        request.params,
        'contract id',
      );
      const part = await readFilePart(request, { partName: 'file', maxBytes });
      await requireMultipartCsrf(request, part.fields);
      await uploadReviewedFile(
        app.db,
        {
          organizationId: session.organizationId,
          contractId: id,
          fileName: part.fileName,
          actor: `user:${session.userId}`,
          maxBytes,
        },
        part.bytes,
      );
      return reply.redirect(`/contracts/${id}?notice=file_uploaded`);
    },
  );
};
