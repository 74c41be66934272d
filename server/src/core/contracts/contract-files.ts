import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { getHeapStatistics } from 'node:v8';

import type { Kysely } from 'kysely';

import { recordAudit } from '../audit/audit-log.ts';
import type { ContractFileRow, DB } from '../../platform/db/schema.ts';
import { ValidationError } from '../../platform/errors.ts';
import { isUuid } from '../organizations/organizations.ts';
import { toContractFile, type ContractFile, type ContractFileOrigin } from './contract.ts';
import {
  ContractFileCorruptError,
  ContractFileNotFoundError,
  ContractFileTooLargeError,
  ContractNotFoundError,
} from './errors.ts';

/**
 * Contract file bytes live in Postgres as 1 MiB `bytea` rows of `contract_file_chunks`, so
 * every app instance can read them and memory stays bounded whatever the file size: bytes
 * are written while they arrive (one chunk insert at a time, the source is not read while an
 * insert is pending) and read back one chunk per query.
 *
 * A file row starts as `writing` and becomes `complete` (with its size and SHA-256) only
 * after the last chunk is stored; readers only ever see complete files, so an interrupted
 * upload is never visible. A failed or refused write deletes its partial rows; a crash
 * leaves a `writing` row that `purgeIncompleteContractFiles` removes.
 */
export const CONTRACT_FILE_CHUNK_BYTES = 1024 * 1024;

/** Absolute ceiling when the caller gives no `maxBytes`. */
export const DEFAULT_MAX_CONTRACT_FILE_BYTES = 1024 * 1024 * 1024;

export interface ContractFileInput {
  readonly organizationId: string;
  readonly contractId: string;
  /** Display name (sanitised: control characters and path separators removed). */
  readonly name: string;
  readonly contentType: string;
  /** The file's id in the source system (e.g. a HubSpot file id). */
  readonly externalFileId?: string | null;
  /** Default `imported`. */
  readonly origin?: ContractFileOrigin;
  /** The version this file supersedes (a complete file of the same contract). */
  readonly replacesFileId?: string | null;
  readonly uploadedBy?: string | null;
}

export interface WriteContractFileOptions {
  /** Refuse (413 `file_too_large`) beyond this many bytes. */
  readonly maxBytes?: number;
  /** Audit actor; default `system`. */
  readonly actor?: string;
}

export interface StoredContractFile {
  readonly file: ContractFile;
  /**
   * True when the contract already had a complete file with the same SHA-256: the existing
   * file is returned and the bytes just written are deleted, so identical content is stored
   * once per contract (the unique index on (contract_id, sha256) of complete files backs
   * this even for two concurrent uploads).
   */
  readonly duplicate: boolean;
}

/** Control and invisible format characters (incl. bidi overrides that disguise extensions). */
const CONTROL_CHARS = /[\p{Cc}\p{Cf}]/gu;
const PATH_SEPARATORS = /[/\\]/g;
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export function sanitizeFileName(name: string): string {
  const cleaned = name.replace(CONTROL_CHARS, '').replace(PATH_SEPARATORS, '_').trim();
  let limited = cleaned.slice(0, 255);
  // Never end on half of a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(limited)) limited = limited.slice(0, -1);
  return limited.length > 0 && limited !== '.' && limited !== '..' ? limited : 'file';
}

/** `type/subtype` lower-cased without parameters; anything else becomes octet-stream. */
export function normalizeContentType(contentType: string): string {
  const essence = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return CONTENT_TYPE.test(essence) ? essence : 'application/octet-stream';
}

function toBuffer(piece: unknown): Buffer {
  if (Buffer.isBuffer(piece)) return piece;
  if (piece instanceof Uint8Array) return Buffer.from(piece.buffer, piece.byteOffset, piece.length);
  if (typeof piece === 'string') return Buffer.from(piece, 'utf8');
  throw new TypeError('contract file sources must yield bytes');
}

/**
 * Called once per stored chunk. A transfer allocates little on the JS heap and a lot outside
 * it (socket reads, the driver's wire buffers), while V8 advances the incremental marking
 * that frees those buffers as JS-heap allocation goes on; left alone the marking crawls and
 * tens of MB of dead buffers stay resident (the bench's 50 MB import peaked anywhere from +3
 * to +79 MB above idle). Reading the heap statistics releases the main thread's allocation
 * area, so the next allocation takes the slow path where marking steps run: every import
 * then peaked within 13 MB of idle, 50 MB or 600 MB. Microseconds per MiB; no data changes.
 */
function letMarkingKeepUp(): void {
  getHeapStatistics();
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '23505';
}

/**
 * Streams `source` into the contract's file storage while hashing and counting it. Resolves
 * once the file is complete; on any failure (over the cap, source error, database error)
 * the partial rows are deleted and the error is rethrown.
 */
export async function writeContractFile(
  db: Kysely<DB>,
  input: ContractFileInput,
  source: Readable | AsyncIterable<Uint8Array | string>,
  options: WriteContractFileOptions = {},
): Promise<StoredContractFile> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CONTRACT_FILE_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new ValidationError('Invalid maxBytes', [
      { path: 'maxBytes', message: 'must be a non-negative integer' },
    ]);
  }
  const contract =
    isUuid(input.contractId) && isUuid(input.organizationId)
      ? await db
          .selectFrom('contracts')
          .select(['id', 'organization_id'])
          .where('id', '=', input.contractId)
          .where('organization_id', '=', input.organizationId)
          .executeTakeFirst()
      : undefined;
  if (!contract) throw new ContractNotFoundError(input.contractId);

  const { id: fileId } = await db
    .insertInto('contract_files')
    .values({
      contract_id: contract.id,
      organization_id: contract.organization_id,
      name: sanitizeFileName(input.name),
      content_type: normalizeContentType(input.contentType),
      external_file_id: input.externalFileId ?? null,
      origin: input.origin ?? 'imported',
      replaces_file_id: input.replacesFileId ?? null,
      uploaded_by: input.uploadedBy ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();

  const deletePartial = async () => {
    await db.deleteFrom('contract_files').where('id', '=', fileId).execute();
  };

  const hash = createHash('sha256');
  let total = 0;
  try {
    let seq = 0;
    // One chunk buffer for the whole file: the driver has copied it into its wire message by
    // the time the insert answers, so it is refilled rather than allocated again per MiB,
    // which keeps the garbage (and the peak RSS) from growing with the file.
    const pending = Buffer.allocUnsafe(CONTRACT_FILE_CHUNK_BYTES);
    let filled = 0;
    const flush = async (data: Buffer) => {
      await db.insertInto('contract_file_chunks').values({ file_id: fileId, seq, data }).execute();
      letMarkingKeepUp();
      seq += 1;
    };
    // `for await` pulls the next piece only after the loop body (and its insert) finished,
    // which is the backpressure; leaving the loop by a throw destroys the source.
    for await (const raw of source) {
      const piece = toBuffer(raw);
      total += piece.length;
      if (total > maxBytes) throw new ContractFileTooLargeError(maxBytes);
      hash.update(piece);
      let offset = 0;
      while (offset < piece.length) {
        const n = Math.min(CONTRACT_FILE_CHUNK_BYTES - filled, piece.length - offset);
        piece.copy(pending, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === CONTRACT_FILE_CHUNK_BYTES) {
          await flush(pending);
          filled = 0;
        }
      }
    }
    if (filled > 0) await flush(pending.subarray(0, filled));
  } catch (error) {
    await deletePartial().catch(() => undefined);
    throw error;
  }

  const sha256 = hash.digest('hex');
  try {
    return await db.transaction().execute(async (trx) => {
      const existing = await findCompleteBySha(trx, contract.id, sha256);
      if (existing) {
        await trx.deleteFrom('contract_files').where('id', '=', fileId).execute();
        return { file: toContractFile(existing), duplicate: true };
      }
      const row = await trx
        .updateTable('contract_files')
        .set({ state: 'complete', size_bytes: total, sha256, completed_at: new Date() })
        .where('id', '=', fileId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, {
        organizationId: contract.organization_id,
        actor: options.actor ?? 'system',
        action: 'contract.file_stored',
        target: `contract:${contract.id}`,
        outcome: 'success',
        details: { file_id: row.id, size_bytes: total, sha256 },
      });
      return { file: toContractFile(row), duplicate: false };
    });
  } catch (error) {
    // Another upload of the same bytes completed between our check and our update.
    if (isUniqueViolation(error)) {
      await deletePartial();
      const existing = await findCompleteBySha(db, contract.id, sha256);
      if (existing) return { file: toContractFile(existing), duplicate: true };
    }
    await deletePartial().catch(() => undefined);
    throw error;
  }
}

async function findCompleteBySha(
  db: Kysely<DB>,
  contractId: string,
  sha256: string,
): Promise<ContractFileRow | undefined> {
  return db
    .selectFrom('contract_files')
    .selectAll()
    .where('contract_id', '=', contractId)
    .where('sha256', '=', sha256)
    .where('state', '=', 'complete')
    .executeTakeFirst();
}

/** One complete file of the organization's contract, or a 404 (contract or file). */
export async function getContractFile(
  db: Kysely<DB>,
  organizationId: string,
  contractId: string,
  fileId: string,
): Promise<ContractFile> {
  if (!isUuid(organizationId) || !isUuid(contractId)) throw new ContractNotFoundError(contractId);
  const row = isUuid(fileId)
    ? await db
        .selectFrom('contract_files')
        .selectAll()
        .where('id', '=', fileId)
        .where('contract_id', '=', contractId)
        .where('organization_id', '=', organizationId)
        .where('state', '=', 'complete')
        .executeTakeFirst()
    : undefined;
  if (row) return toContractFile(row);
  const contract = await db
    .selectFrom('contracts')
    .select('id')
    .where('id', '=', contractId)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  if (!contract) throw new ContractNotFoundError(contractId);
  throw new ContractFileNotFoundError(fileId);
}

export interface OpenedContractFile {
  readonly file: ContractFile;
  /** The bytes, one chunk query at a time; errors if a chunk is missing or the hash differs. */
  readonly stream: Readable;
}

/**
 * Opens a complete file for reading. The stream fetches one 1 MiB chunk per query and only
 * when the consumer wants more, so memory stays bounded; it verifies size and SHA-256 as it
 * goes and fails (destroying the stream) on any mismatch.
 */
export async function openContractFileStream(
  db: Kysely<DB>,
  organizationId: string,
  contractId: string,
  fileId: string,
): Promise<OpenedContractFile> {
  const file = await getContractFile(db, organizationId, contractId, fileId);

  async function* chunks(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    let sent = 0;
    for (let seq = 0; sent < file.sizeBytes; seq += 1) {
      const row = await db
        .selectFrom('contract_file_chunks')
        .select('data')
        .where('file_id', '=', file.id)
        .where('seq', '=', seq)
        .executeTakeFirst();
      if (!row) throw new ContractFileCorruptError(file.id, `chunk ${seq} is missing`);
      sent += row.data.length;
      if (sent > file.sizeBytes) throw new ContractFileCorruptError(file.id, 'too many bytes');
      hash.update(row.data);
      yield row.data;
    }
    if (hash.digest('hex') !== file.sha256) {
      throw new ContractFileCorruptError(file.id, 'SHA-256 mismatch');
    }
  }

  return { file, stream: Readable.from(chunks(), { objectMode: false }) };
}

/** Complete files of a contract, oldest first. */
export async function listContractFiles(
  db: Kysely<DB>,
  organizationId: string,
  contractId: string,
): Promise<ContractFile[]> {
  if (!isUuid(organizationId) || !isUuid(contractId)) return [];
  const rows = await db
    .selectFrom('contract_files')
    .selectAll()
    .where('contract_id', '=', contractId)
    .where('organization_id', '=', organizationId)
    .where('state', '=', 'complete')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toContractFile);
}

/**
 * Deletes `writing` files (and their chunks) started before `olderThan`: uploads whose
 * process died. Returns how many were removed. Safe to run from any instance.
 */
export async function purgeIncompleteContractFiles(
  db: Kysely<DB>,
  olderThan: Date,
  options: { limit?: number } = {},
): Promise<number> {
  let query = db
    .deleteFrom('contract_files')
    .where('state', '=', 'writing')
    .where('created_at', '<', olderThan);
  if (options.limit !== undefined) {
    // A batch, oldest first, so a sweep's statement stays short however many there are.
    const limit = options.limit;
    query = query.where('id', 'in', (eb) =>
      eb
        .selectFrom('contract_files')
        .select('id')
        .where('state', '=', 'writing')
        .where('created_at', '<', olderThan)
        .orderBy('created_at')
        .limit(limit),
    );
  }
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
