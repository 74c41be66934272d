import { z } from 'zod';

import { DEFAULT_IMPORT_MAX_FILE_BYTES } from '../../platform/config/env.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest, type PortalClientOptions } from '../client/portal-client.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import {
  AssociationsPageSchema,
  BATCH_INPUT_LIMIT,
  BatchResponseSchema,
  CrmObjectWithAssociationsSchema,
  FileMetadataSchema,
  PipelineSchema,
  SignedUrlSchema,
  parseAttachmentIds,
  type CrmObject,
  type CrmObjectWithAssociations,
  type FileMetadata,
  type Pipeline,
  type SignedUrl,
} from '../wire/index.ts';
import { allowedTypeFor } from './file-policy.ts';
import { NotFoundError } from '../../platform/errors.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * Reads a deal and its attachments from HubSpot (paths from `hubspotPaths`): the deal with its
 * pipeline and stage labels, deal → notes associations (paged), the notes' `hs_attachment_ids`
 * (batch read), each file's metadata and a short-lived signed download URL.
 */

export const DEAL_PROPERTIES = [
  'dealname',
  'amount',
  'deal_currency_code',
  'closedate',
  'pipeline',
  'dealstage',
  'hubspot_owner_id',
  'dealtype',
] as const;

/** The deal as it was at import, stored as the contract's `source_snapshot`. */
export interface DealSnapshot {
  readonly source: 'hubspot';
  readonly portalId: string;
  readonly dealId: string;
  readonly name: string | null;
  readonly amount: string | null;
  readonly currency: string | null;
  readonly closeDate: string | null;
  readonly pipeline: { readonly id: string; readonly label: string | null } | null;
  readonly stage: { readonly id: string; readonly label: string | null } | null;
  readonly ownerId: string | null;
  /** HubSpot's deal type (`dealtype`, e.g. `newbusiness`), which routing rules may test. */
  readonly dealType?: string | null;
  /** The deal's values of the properties the field mapping reads (absent: unknown to HubSpot). */
  readonly properties?: Readonly<Record<string, string | null>>;
  readonly fetchedAt: string;
}

/** The signed portal has no such deal (or it was deleted): the one not-found error for deals. */
export class DealNotFoundError extends NotFoundError {
  readonly dealId: string;
  constructor(dealId: string) {
    super('deal_not_found', 'This deal does not exist in this HubSpot portal.');
    this.dealId = dealId;
  }
}

const isNotFound = (error: unknown) => error instanceof HubSpotApiError && error.status === 404;

export async function fetchDeal(
  deps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
  options: PortalClientOptions & { extraProperties?: readonly string[] } = {},
): Promise<CrmObjectWithAssociations> {
  try {
    const { body } = await portalRequest(
      deps,
      portalId,
      {
        method: 'GET',
        path: hubspotPaths.deal(dealId),
        query: {
          properties: [...new Set([...DEAL_PROPERTIES, ...(options.extraProperties ?? [])])],
        },
      },
      CrmObjectWithAssociationsSchema,
      options,
    );
    return body;
  } catch (error) {
    if (isNotFound(error)) throw new DealNotFoundError(dealId);
    throw error;
  }
}

async function fetchPipeline(
  deps: HubSpotTokenDeps,
  portalId: string,
  pipelineId: string,
  options: PortalClientOptions,
): Promise<Pipeline | undefined> {
  try {
    const { body } = await portalRequest(
      deps,
      portalId,
      { method: 'GET', path: hubspotPaths.dealPipeline(pipelineId) },
      PipelineSchema,
      options,
    );
    return body;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The deal with its pipeline and stage labels (ids stay when a label cannot be found). */
export async function fetchDealSnapshot(
  deps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
  options: PortalClientOptions & { extraProperties?: readonly string[] } = {},
): Promise<DealSnapshot> {
  const deal = await fetchDeal(deps, portalId, dealId, options);
  const p = (name: string) => {
    const value = deal.properties[name];
    return value === undefined || value === null || value === '' ? null : value;
  };
  const pipelineId = p('pipeline');
  const stageId = p('dealstage');
  const pipeline = pipelineId
    ? await fetchPipeline(deps, portalId, pipelineId, options)
    : undefined;
  const stage = pipeline?.stages.find((s) => s.id === stageId);
  return {
    source: 'hubspot',
    portalId,
    dealId: deal.id,
    name: p('dealname'),
    amount: p('amount'),
    currency: p('deal_currency_code'),
    closeDate: p('closedate'),
    pipeline: pipelineId ? { id: pipelineId, label: pipeline?.label ?? null } : null,
    stage: stageId ? { id: stageId, label: stage?.label ?? null } : null,
    ownerId: p('hubspot_owner_id'),
    dealType: p('dealtype'),
    ...(options.extraProperties && options.extraProperties.length > 0
      ? {
          properties: Object.fromEntries(
            // HubSpot leaves a property it does not know out of the answer: absent stays absent.
            options.extraProperties.filter((n) => n in deal.properties).map((n) => [n, p(n)]),
          ),
        }
      : {}),
    fetchedAt: new Date().toISOString(),
  };
}

/** Every note associated with the deal, following `paging.next.after`. */
async function listDealNoteIds(
  deps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
  options: PortalClientOptions,
): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  // A bound on pages keeps a misbehaving cursor from looping forever (500 × 200 notes).
  for (let page = 0; page < 200; page += 1) {
    let body;
    try {
      ({ body } = await portalRequest(
        deps,
        portalId,
        {
          method: 'GET',
          path: hubspotPaths.dealNoteAssociations(dealId),
          query: { limit: 500, after },
        },
        AssociationsPageSchema,
        options,
      ));
    } catch (error) {
      if (isNotFound(error)) throw new DealNotFoundError(dealId);
      throw error;
    }
    for (const result of body.results) ids.push(result.toObjectId);
    after = body.paging?.next?.after;
    if (!after) break;
  }
  return [...new Set(ids)];
}

/** The note properties read for attachments, by id or by search alike. */
export const NOTE_PROPERTIES: readonly string[] = ['hs_attachment_ids', 'hs_timestamp'];

export interface AttachmentRef {
  readonly fileId: string;
  readonly noteId: string;
}

/**
 * The deal read together with its note ids (`?associations=notes` on the single read, one
 * round trip instead of two). When HubSpot pages the embedded associations, the full list
 * comes from the associations endpoint instead.
 */
export async function fetchDealWithNoteIds(
  deps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
  options: PortalClientOptions & { properties?: readonly string[] } = {},
): Promise<{ deal: CrmObjectWithAssociations; noteIds: string[] }> {
  let deal: CrmObjectWithAssociations;
  try {
    ({ body: deal } = await portalRequest(
      deps,
      portalId,
      {
        method: 'GET',
        path: hubspotPaths.deal(dealId),
        query: {
          properties: [...(options.properties ?? DEAL_PROPERTIES)],
          associations: 'notes',
        },
      },
      CrmObjectWithAssociationsSchema,
      options,
    ));
  } catch (error) {
    if (isNotFound(error)) throw new DealNotFoundError(dealId);
    throw error;
  }
  const embedded = deal.associations?.notes;
  if (embedded?.paging?.next) {
    return { deal, noteIds: await listDealNoteIds(deps, portalId, deal.id, options) };
  }
  return { deal, noteIds: [...new Set((embedded?.results ?? []).map((r) => r.id))] };
}

/**
 * The given notes with `hs_attachment_ids` (batch reads of up to 100, run together). Notes
 * that no longer exist are left out (HubSpot answers 207 with an error for them).
 */
export async function readNotes(
  deps: HubSpotTokenDeps,
  portalId: string,
  noteIds: readonly string[],
  options: PortalClientOptions = {},
): Promise<CrmObject[]> {
  const batches: string[][] = [];
  for (let i = 0; i < noteIds.length; i += BATCH_INPUT_LIMIT) {
    batches.push(noteIds.slice(i, i + BATCH_INPUT_LIMIT));
  }
  const bodies = await Promise.all(
    batches.map(async (batch) => {
      const { body } = await portalRequest(
        deps,
        portalId,
        {
          method: 'POST',
          path: hubspotPaths.notesBatchRead(),
          json: {
            inputs: batch.map((id) => ({ id })),
            properties: [...NOTE_PROPERTIES],
            propertiesWithHistory: [],
          },
        },
        BatchResponseSchema,
        options,
      );
      return body;
    }),
  );
  return bodies.flatMap((body) => body.results);
}

/** The file ids attached to the given notes, oldest note first, each file once. */
export async function listNoteAttachmentRefs(
  deps: HubSpotTokenDeps,
  portalId: string,
  noteIds: readonly string[],
  options: PortalClientOptions = {},
): Promise<AttachmentRef[]> {
  return attachmentRefsOf(await readNotes(deps, portalId, noteIds, options));
}

/** The attachment refs of notes (as read with `hs_attachment_ids`), oldest note first. */
export function attachmentRefsOf(notes: readonly CrmObject[]): AttachmentRef[] {
  const refs: AttachmentRef[] = [];
  const seen = new Set<string>();
  const sorted = [...notes].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const note of sorted) {
    for (const fileId of parseAttachmentIds(note.properties.hs_attachment_ids)) {
      if (seen.has(fileId)) continue;
      seen.add(fileId);
      refs.push({ fileId, noteId: note.id });
    }
  }
  return refs;
}

/** The file ids attached to the deal's notes, oldest note first, each file once. */
export async function listDealAttachmentRefs(
  deps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
  options: PortalClientOptions = {},
): Promise<AttachmentRef[]> {
  const noteIds = await listDealNoteIds(deps, portalId, dealId, options);
  return listNoteAttachmentRefs(deps, portalId, noteIds, options);
}

/** File metadata, or undefined when HubSpot answers 404 (sensitive, deleted or hidden). */
export async function fetchFileMetadata(
  deps: HubSpotTokenDeps,
  portalId: string,
  fileId: string,
  options: PortalClientOptions = {},
): Promise<FileMetadata | undefined> {
  try {
    const { body } = await portalRequest(
      deps,
      portalId,
      { method: 'GET', path: hubspotPaths.file(fileId) },
      FileMetadataSchema,
      options,
    );
    return body;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A short-lived download URL, or undefined on 404. Never log the URL: it is a credential. */
export async function fetchSignedUrl(
  deps: HubSpotTokenDeps,
  portalId: string,
  fileId: string,
  options: PortalClientOptions = {},
): Promise<SignedUrl | undefined> {
  try {
    const { body } = await portalRequest(
      deps,
      portalId,
      {
        method: 'GET',
        path: hubspotPaths.fileSignedUrl(fileId),
        query: { expirationSeconds: 300 },
      },
      SignedUrlSchema,
      options,
    );
    return body;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Why the import left an attachment out (reported in the import summary). */
export type SkipReason =
  'too_large' | 'type_not_allowed' | 'sensitive_or_unavailable' | 'duplicate' | 'download_refused';

/** One attachment of a deal as the card shows it. */
export interface DealAttachment {
  readonly fileId: string;
  /** Name with extension when HubSpot says it (`name` excludes it in the Files API). */
  readonly name: string;
  readonly extension: string | null;
  readonly contentType: string | null;
  readonly size: number | null;
  readonly importable: boolean;
  readonly reason?: 'too_large' | 'type_not_allowed' | 'sensitive_or_unavailable';
}

export function displayName(metadata: Pick<FileMetadata, 'id' | 'name' | 'extension'>): string {
  const base = metadata.name ?? `file-${metadata.id}`;
  const ext = metadata.extension;
  return ext && !base.toLowerCase().endsWith(`.${ext.toLowerCase()}`) ? `${base}.${ext}` : base;
}

const SENSITIVE_ACCESS = new Set(['SENSITIVE', 'HIDDEN_SENSITIVE']);

/** Classifies a file from its metadata (before any download). */
export function classifyAttachment(
  fileId: string,
  metadata: FileMetadata | undefined,
  maxFileBytes: number,
): DealAttachment {
  if (
    !metadata ||
    metadata.archived ||
    (metadata.access && SENSITIVE_ACCESS.has(metadata.access))
  ) {
    return {
      fileId,
      name: metadata ? displayName(metadata) : `file-${fileId}`,
      extension: metadata?.extension ?? null,
      contentType: null,
      size: metadata?.size ?? null,
      importable: false,
      reason: 'sensitive_or_unavailable',
    };
  }
  const type = allowedTypeFor(metadata.extension, metadata.name);
  const base = {
    fileId,
    name: displayName(metadata),
    extension: metadata.extension ?? null,
    contentType: type?.contentType ?? null,
    size: metadata.size ?? null,
  };
  if (!type) return { ...base, importable: false, reason: 'type_not_allowed' };
  if (metadata.size !== undefined && metadata.size > maxFileBytes) {
    return { ...base, importable: false, reason: 'too_large' };
  }
  return { ...base, importable: true };
}

export const DealAttachmentSchema = z.object({
  fileId: z.string(),
  name: z.string(),
  extension: z.string().nullable(),
  contentType: z.string().nullable(),
  size: z.number().nullable(),
  importable: z.boolean(),
  reason: z.enum(['too_large', 'type_not_allowed', 'sensitive_or_unavailable']).optional(),
});

/**
 * A cache of file metadata for display (the Deal card). Keyed by portal; the import never
 * uses it (it reads the metadata again right before downloading).
 */
export interface FileMetadataCache {
  get(portalId: string, fileId: string): FileMetadata | undefined;
  set(portalId: string, fileId: string, metadata: FileMetadata): void;
}

/** How many file metadata reads run at once for one listing. */
export const FILE_METADATA_CONCURRENCY = 8;

/**
 * Classifies attachment refs from their file metadata: reads run in parallel with bounded
 * concurrency (each still takes a slot of the portal's rate budget), results keep the order
 * of `refs`. With a cache, known files are not read again.
 */
export async function classifyAttachmentRefs(
  deps: HubSpotTokenDeps,
  portalId: string,
  refs: readonly AttachmentRef[],
  options: PortalClientOptions & {
    maxFileBytes?: number;
    concurrency?: number;
    metadataCache?: FileMetadataCache;
  } = {},
): Promise<DealAttachment[]> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_IMPORT_MAX_FILE_BYTES;
  const cache = options.metadataCache;
  const metadata = new Array<FileMetadata | undefined>(refs.length);
  const toRead: number[] = [];
  refs.forEach((ref, i) => {
    const hit = cache?.get(portalId, ref.fileId);
    if (hit) metadata[i] = hit;
    else toRead.push(i);
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = toRead[next];
      next += 1;
      if (i === undefined) return;
      const ref = refs[i];
      if (!ref) continue;
      const read = await fetchFileMetadata(deps, portalId, ref.fileId, options);
      metadata[i] = read;
      if (read && cache) cache.set(portalId, ref.fileId, read);
    }
  };
  const lanes = Math.max(
    1,
    Math.min(options.concurrency ?? FILE_METADATA_CONCURRENCY, toRead.length),
  );
  await Promise.all(Array.from({ length: lanes }, worker));
  return refs.map((ref, i) => classifyAttachment(ref.fileId, metadata[i], maxFileBytes));
}

/**
 * The deal's attachments with whether each can be imported (the Deal card shows this list).
 * Throws `DealNotFoundError` for a missing deal and the token errors of a portal that is not
 * connected. `noteIds`: the deal's notes when the caller already has them (from
 * `fetchDealWithNoteIds`), which saves the associations call.
 */
export async function listDealAttachments(
  deps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
  options: PortalClientOptions & {
    maxFileBytes?: number;
    noteIds?: readonly string[];
    metadataCache?: FileMetadataCache;
  } = {},
): Promise<DealAttachment[]> {
  const refs =
    options.noteIds !== undefined
      ? await listNoteAttachmentRefs(deps, portalId, options.noteIds, options)
      : await listDealAttachmentRefs(deps, portalId, dealId, options);
  return classifyAttachmentRefs(deps, portalId, refs, options);
}
