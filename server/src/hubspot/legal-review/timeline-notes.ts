import type { Kysely } from 'kysely';
import { z } from 'zod';

import { recordAudit } from '../../core/audit/audit-log.ts';
import { contractUrl } from '../../core/contracts/contract.ts';
import { getContractDetail } from '../../core/contracts/contracts-service.ts';
import { findContractsByExternalRef } from '../../core/contracts/external-records.ts';
import { contractReviewFacts } from '../../core/contracts/review-facts.ts';
import { NEGOTIATION_STATUS_LABELS } from '../../core/contracts/status.ts';
import { getOrganizationIntegration } from '../../core/integrations/organization-integrations.ts';
import type { DB } from '../../platform/db/schema.ts';
import { escapeHtml } from '../../platform/http/html.ts';
import { defineJob, type JobQueue } from '../../platform/jobs/queue.ts';
import type { WorkerDeps } from '../../platform/jobs/worker-deps.ts';
import { hubSpotTokenDeps, type HubSpotTokenDeps } from '../client/access-tokens.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { createDealNote, describeHubSpotError, missingScopes, NOTE_SCOPES } from './deal-notes.ts';
import { getHubSpotSettings } from './settings-store.ts';

/**
 * A timeline on the deal (issue 15 item 5): a note for each event a rep cares about — the
 * deal sent to legal (by whom, which files with their SHA-256), a new version sent, and each
 * decision (who, when, outcome).
 *
 * HubSpot's own timeline events (the CRM timeline API with app-defined event templates) need
 * HubSpot's partner approval for the app; notes are the fallback until then, and they show
 * in the same activity feed of the deal.
 *
 * Written once per event: `hubspot_timeline_notes` has one row per (contract, event key),
 * claimed (inserted) before the HubSpot call and marked `written` with the note id after, so
 * a retried or replayed job skips it. As with the file write-back, a note has no idempotency
 * key at HubSpot: a crash between HubSpot's answer and our record can leave one extra note.
 * Off with the organization's `timelineNotes` setting; skipped (and said so on the row) when
 * the portal has not granted the notes scope.
 */

export const timelineNoteJob = defineJob({
  name: 'hubspot-timeline-note',
  schema: z.object({
    organizationId: z.uuid(),
    contractId: z.uuid(),
    portalId: z.string().regex(/^\d+$/),
    dealId: z.string().min(1),
    event: z.discriminatedUnion('kind', [
      /** The import finished: "sent to legal", or "new version sent" for a later contract. */
      z.object({ kind: z.literal('sent') }),
      /** A status change to a decision (the history row's id). */
      z.object({ kind: z.literal('decision'), changeId: z.number().int().positive() }),
    ]),
  }),
  retryLimit: 5,
  retryDelaySeconds: 10,
  concurrency: 2,
});

export type TimelineNotePayload = z.output<typeof timelineNoteJob.schema>;

/** Called in the transaction of the change that causes the event. */
export async function enqueueTimelineNote(
  trx: Kysely<DB>,
  jobs: JobQueue,
  payload: TimelineNotePayload,
): Promise<void> {
  const key = payload.event.kind === 'sent' ? 'sent' : `decision:${payload.event.changeId}`;
  await jobs.send(trx, timelineNoteJob, payload, {
    singletonKey: `${payload.contractId}:${key}`,
  });
}

export async function handleTimelineNoteJob(
  deps: WorkerDeps,
  payload: TimelineNotePayload,
  signal?: AbortSignal,
): Promise<void> {
  await writeTimelineNote(
    { db: deps.db, tokenDeps: hubSpotTokenDeps(deps), publicBaseUrl: deps.config.publicBaseUrl },
    payload,
    signal,
  );
}

interface Note {
  readonly eventKey: string;
  readonly body: string;
  readonly at: Date;
}

function who(actor: string | null, email: string | null): string {
  return escapeHtml(email ?? actor ?? 'someone');
}

/** The event's key and note text, or undefined when the event no longer exists. */
async function composeNote(
  db: Kysely<DB>,
  publicBaseUrl: string,
  payload: TimelineNotePayload,
): Promise<Note | undefined> {
  const facts = (await contractReviewFacts(db, [payload.contractId])).get(payload.contractId);
  if (!facts || facts.contract.organizationId !== payload.organizationId) return undefined;
  const { contract } = facts;
  const title = escapeHtml(contract.title);
  const link = `<p><a href="${escapeHtml(contractUrl(publicBaseUrl, contract.id))}">Open in LexiContract</a></p>`;
  if (payload.event.kind === 'decision') {
    const { changeId } = payload.event;
    const change = facts.history.find((c) => c.id === changeId);
    if (!change) return undefined;
    return {
      eventKey: `decision:${String(change.id)}`,
      at: change.at,
      body:
        `<p><strong>LexiContract: legal decision on “${title}”</strong></p>` +
        `<p>Outcome: ${escapeHtml(NEGOTIATION_STATUS_LABELS[change.to])}, by ${who(change.actor, change.actorEmail)}, ` +
        `at ${change.at.toISOString()}.</p>` +
        link,
    };
  }
  // A later contract of the same deal is a new version ("send new version"): older ones exist.
  const onDeal = await findContractsByExternalRef(db, {
    organizationId: payload.organizationId,
    source: 'hubspot',
    accountId: payload.portalId,
    externalId: payload.dealId,
  });
  const newVersion = onDeal.some(
    (c) =>
      c.id !== contract.id &&
      (c.createdAt < contract.createdAt ||
        (c.createdAt.getTime() === contract.createdAt.getTime() && c.id < contract.id)),
  );
  const detail = await getContractDetail(db, payload.organizationId, contract.id);
  const first = facts.history[0];
  const files = detail.files.filter((f) => f.origin === 'imported');
  const list =
    files.length === 0
      ? '<p>No files were imported.</p>'
      : `<p>Files:</p><ul>${files
          .map((f) => `<li>${escapeHtml(f.name)} (SHA-256 ${escapeHtml(f.sha256)})</li>`)
          .join('')}</ul>`;
  return {
    eventKey: newVersion ? 'new_version_sent' : 'sent_to_legal',
    at: contract.createdAt,
    body:
      `<p><strong>LexiContract: ${newVersion ? 'new version sent' : 'sent to legal'} — “${title}”</strong></p>` +
      `<p>Sent by ${who(first?.actor ?? contract.createdBy, first?.actorEmail ?? null)} at ${contract.createdAt.toISOString()}.</p>` +
      list +
      link,
  };
}

async function setRow(
  db: Kysely<DB>,
  key: { contractId: string; eventKey: string },
  values: {
    state: 'written' | 'failed' | 'skipped';
    hubspot_note_id?: string;
    last_error: string | null;
    bumpAttempts?: boolean;
  },
): Promise<void> {
  const { bumpAttempts, ...rest } = values;
  await db
    .updateTable('hubspot_timeline_notes')
    .set((eb) => ({
      ...rest,
      updated_at: new Date(),
      ...(bumpAttempts ? { attempts: eb('attempts', '+', 1) } : {}),
    }))
    .where('contract_id', '=', key.contractId)
    .where('event_key', '=', key.eventKey)
    .execute();
}

export type TimelineNoteOutcome = 'written' | 'already_written' | 'off' | 'gone' | 'skipped';

export async function writeTimelineNote(
  deps: { db: Kysely<DB>; tokenDeps: HubSpotTokenDeps; publicBaseUrl: string },
  payload: TimelineNotePayload,
  signal?: AbortSignal,
): Promise<TimelineNoteOutcome> {
  const { db } = deps;
  const settings = await getHubSpotSettings(db, payload.organizationId);
  if (!settings.timelineNotes) return 'off';
  const note = await composeNote(db, deps.publicBaseUrl, payload);
  if (!note) return 'gone';
  const key = { contractId: payload.contractId, eventKey: note.eventKey };

  // The claim: the event's row exists before HubSpot is called.
  await db
    .insertInto('hubspot_timeline_notes')
    .values({
      contract_id: payload.contractId,
      event_key: note.eventKey,
      organization_id: payload.organizationId,
      portal_id: payload.portalId,
      deal_id: payload.dealId,
    })
    .onConflict((oc) => oc.columns(['contract_id', 'event_key']).doNothing())
    .execute();
  const row = await db
    .selectFrom('hubspot_timeline_notes')
    .select('state')
    .where('contract_id', '=', key.contractId)
    .where('event_key', '=', key.eventKey)
    .executeTakeFirstOrThrow();
  if (row.state === 'written') return 'already_written';

  const integration = await getOrganizationIntegration(db, payload.organizationId, 'hubspot');
  const missing = missingScopes(NOTE_SCOPES, integration?.granted_scopes ?? []);
  if (missing.length > 0) {
    await setRow(db, key, {
      state: 'skipped',
      last_error: `No timeline note: the portal has not granted ${missing.join(', ')}; re-authorize to write files back.`,
    });
    return 'skipped';
  }

  let noteId: string;
  try {
    noteId = await createDealNote(
      deps.tokenDeps,
      payload.portalId,
      { dealId: payload.dealId, body: note.body, timestamp: note.at },
      signal,
    );
  } catch (error) {
    const forbidden = error instanceof HubSpotApiError && error.status === 403;
    await setRow(db, key, {
      state: forbidden ? 'skipped' : 'failed',
      last_error: `Writing the timeline note failed: ${describeHubSpotError(error)}${
        forbidden ? '; re-authorize to write files back' : ''
      }`.slice(0, 1000),
      bumpAttempts: true,
    });
    // Worth another try later (pg-boss retries the job); a refusal waits for a person.
    if (!(error instanceof HubSpotApiError) || error.retryable) throw error;
    return 'skipped';
  }
  await db.transaction().execute(async (trx) => {
    await setRow(trx, key, { state: 'written', hubspot_note_id: noteId, last_error: null });
    await recordAudit(trx, {
      organizationId: payload.organizationId,
      actor: 'system',
      action: 'hubspot.timeline_note_written',
      target: `contract:${payload.contractId}`,
      outcome: 'success',
      details: { deal_id: payload.dealId, note_id: noteId, event: note.eventKey },
    });
  });
  return 'written';
}

/** The newest timeline-note problem of each contract that has one (contract page). */
export async function timelineNoteProblems(
  db: Kysely<DB>,
  organizationId: string,
  contractIds: readonly string[],
): Promise<Map<string, string>> {
  if (contractIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('hubspot_timeline_notes')
    .select(['contract_id', 'last_error'])
    .where('organization_id', '=', organizationId)
    .where('contract_id', 'in', [...contractIds])
    .where('state', 'in', ['failed', 'skipped'])
    .orderBy('updated_at')
    .execute();
  return new Map(
    rows.map((r) => [r.contract_id, r.last_error ?? 'Writing a timeline note failed']),
  );
}
