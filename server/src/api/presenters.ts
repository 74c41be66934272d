import type {
  Contract,
  ContractDetail,
  ContractFile,
  ContractStatusChange,
} from '../core/contracts/contract.ts';

/**
 * Domain objects → API JSON (snake_case). Fields are listed one by one, so nothing the
 * domain adds later is exposed by accident.
 */
export function presentContract(contract: Contract) {
  return {
    id: contract.id,
    title: contract.title,
    negotiation_status: contract.negotiationStatus,
    status_version: contract.statusVersion,
    external_source: contract.externalSource,
    external_id: contract.externalId,
    external_account_id: contract.externalAccountId,
    created_by_source: contract.createdBySource,
    created_by: contract.createdBy,
    created_at: contract.createdAt.toISOString(),
    updated_at: contract.updatedAt.toISOString(),
  };
}

export function contractFileContentPath(file: ContractFile): string {
  return `/api/v1/contracts/${file.contractId}/files/${file.id}/content`;
}

export function presentContractFile(file: ContractFile) {
  return {
    id: file.id,
    name: file.name,
    content_type: file.contentType,
    size_bytes: file.sizeBytes,
    sha256: file.sha256,
    external_file_id: file.externalFileId,
    origin: file.origin,
    replaces_file_id: file.replacesFileId,
    uploaded_by: file.uploadedBy,
    created_at: file.createdAt.toISOString(),
    content_url: contractFileContentPath(file),
  };
}

export function presentStatusChange(change: ContractStatusChange) {
  return {
    from: change.from,
    to: change.to,
    source: change.source,
    actor: change.actor,
    at: change.at.toISOString(),
  };
}

export function presentContractDetail(detail: ContractDetail) {
  return {
    ...presentContract(detail.contract),
    source_snapshot: detail.contract.sourceSnapshot,
    metadata: detail.contract.metadata,
    metadata_mapping_version: detail.contract.metadataMappingVersion,
    files: detail.files.map(presentContractFile),
    status_history: detail.history.map(presentStatusChange),
  };
}

/**
 * `Content-Disposition: attachment` with an ASCII fallback name (quotes, backslashes and
 * non-printable or non-ASCII characters replaced) and the exact name as RFC 8187 `filename*`.
 */
export function attachmentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
