import type { Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import { isUuid } from '../organizations/organizations.ts';
import { toContractFile, type ContractFile } from './contract.ts';
import { sanitizeFileName, writeContractFile, type StoredContractFile } from './contract-files.ts';
import { ContractFileNotFoundError, ContractNotFoundError } from './errors.ts';
import { allowedTypeFor, ContractFileTypeError, typeCheckedBytes } from './file-types.ts';

/**
 * Legal's reviewed versions of a contract's files (issue 15 item 1). An upload is a new
 * version: it replaces the file the caller names, or by default the contract's newest file,
 * and passes the import's checks (type allowlist by name, first-bytes signature, size cap,
 * streaming with SHA-256). The stored content type is the allowlist's, never the client's.
 */
export interface ReviewedFileUpload {
  readonly organizationId: string;
  readonly contractId: string;
  readonly fileName: string;
  /** The version replaced; undefined = the newest file of the contract (if any). */
  readonly replacesFileId?: string;
  /** `user:<id>`, `api_key:<prefix>`: also the audit actor. */
  readonly actor: string;
  readonly maxBytes: number;
}

export async function uploadReviewedFile(
  db: Kysely<DB>,
  upload: ReviewedFileUpload,
  source: AsyncIterable<Uint8Array | string>,
): Promise<StoredContractFile> {
  const name = sanitizeFileName(upload.fileName);
  const type = allowedTypeFor(undefined, name);
  if (!type) {
    throw new ContractFileTypeError(
      `Files named like ${JSON.stringify(name)} are not accepted: upload a PDF, DOCX, DOC, RTF or TXT file`,
    );
  }
  const replaces = await replacedFile(db, upload);
  return writeContractFile(
    db,
    {
      organizationId: upload.organizationId,
      contractId: upload.contractId,
      name,
      contentType: type.contentType,
      origin: 'uploaded',
      replacesFileId: replaces?.id ?? null,
      uploadedBy: upload.actor,
    },
    typeCheckedBytes(source, type),
    { maxBytes: upload.maxBytes, actor: upload.actor },
  );
}

async function replacedFile(
  db: Kysely<DB>,
  upload: ReviewedFileUpload,
): Promise<{ id: string } | undefined> {
  if (!isUuid(upload.organizationId) || !isUuid(upload.contractId)) {
    throw new ContractNotFoundError(upload.contractId);
  }
  const contract = await db
    .selectFrom('contracts')
    .select('id')
    .where('id', '=', upload.contractId)
    .where('organization_id', '=', upload.organizationId)
    .executeTakeFirst();
  if (!contract) throw new ContractNotFoundError(upload.contractId);
  const files = db
    .selectFrom('contract_files')
    .select('id')
    .where('contract_id', '=', contract.id)
    .where('state', '=', 'complete');
  if (upload.replacesFileId !== undefined) {
    const named = isUuid(upload.replacesFileId)
      ? await files.where('id', '=', upload.replacesFileId).executeTakeFirst()
      : undefined;
    if (!named) throw new ContractFileNotFoundError(upload.replacesFileId);
    return named;
  }
  return files.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
}

/**
 * The reviewed files to send back: uploaded files that no later complete version replaces
 * (the head of each version chain), oldest first.
 */
export async function newestReviewedFiles(
  db: Kysely<DB>,
  organizationId: string,
  contractId: string,
): Promise<ContractFile[]> {
  if (!isUuid(organizationId) || !isUuid(contractId)) return [];
  const rows = await db
    .selectFrom('contract_files as f')
    .selectAll('f')
    .where('f.contract_id', '=', contractId)
    .where('f.organization_id', '=', organizationId)
    .where('f.state', '=', 'complete')
    .where('f.origin', '=', 'uploaded')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('contract_files as newer')
            .select('newer.id')
            .whereRef('newer.replaces_file_id', '=', 'f.id')
            .where('newer.state', '=', 'complete'),
        ),
      ),
    )
    .orderBy('f.created_at')
    .orderBy('f.id')
    .execute();
  return rows.map(toContractFile);
}
