import type {
  ContractFileRow,
  ContractRow,
  ContractStatusChangeRow,
} from '../../platform/db/schema.ts';
import type { NegotiationStatus } from './status.ts';
import { ContractMetadataSchema, type ContractMetadata } from './metadata-fields.ts';

/** A contract as the domain sees it (DB rows stay in db/, HTTP shapes in api/). */
export interface Contract {
  readonly id: string;
  readonly organizationId: string;
  readonly title: string;
  /** Where the contract came from (`hubspot`, `salesforce`, …); null when made in LexiContract. */
  readonly externalSource: string | null;
  /** The source record's id, e.g. the HubSpot deal id. */
  readonly externalId: string | null;
  /** The source account, e.g. the HubSpot portal id. */
  readonly externalAccountId: string | null;
  readonly negotiationStatus: NegotiationStatus;
  /** Starts at 1 and grows by one with every status change (optimistic concurrency). */
  readonly statusVersion: number;
  /** The source record as it was at import (e.g. the deal), JSON. */
  readonly sourceSnapshot: unknown;
  /** Metadata fields (`metadata-fields.ts`) as the last import mapped them. */
  readonly metadata: ContractMetadata;
  /** The version of the CRM field mapping that filled `metadata` (null: none). */
  readonly metadataMappingVersion: number | null;
  readonly createdBySource: string;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface ContractFile {
  readonly id: string;
  readonly contractId: string;
  readonly organizationId: string;
  readonly name: string;
  readonly contentType: string;
  readonly sizeBytes: number;
  /** Hex SHA-256 of the bytes; always set on a complete file. */
  readonly sha256: string;
  readonly externalFileId: string | null;
  /** `imported` from the CRM record, or `uploaded` by legal as a reviewed version. */
  readonly origin: ContractFileOrigin;
  /** The file this version supersedes (same contract), when it is a new version. */
  readonly replacesFileId: string | null;
  /** Who uploaded it (`user:<id>`, `api_key:<prefix>`); null for imports. */
  readonly uploadedBy: string | null;
  readonly createdAt: Date;
  readonly completedAt: Date | null;
}

export type ContractFileOrigin = 'imported' | 'uploaded';

export interface ContractStatusChange {
  readonly id: number;
  readonly contractId: string;
  readonly organizationId: string;
  /** Null for the first history row, written when the contract is created. */
  readonly from: NegotiationStatus | null;
  readonly to: NegotiationStatus;
  /** The channel: `api`, `web`, `hubspot`, `cli`, `system`, … */
  readonly source: string;
  /** Who: `api_key:<prefix>`, `user:<id>`, `hubspot:portal:<id>`, … */
  readonly actor: string | null;
  readonly at: Date;
}

export interface ContractDetail {
  readonly contract: Contract;
  readonly files: readonly ContractFile[];
  readonly history: readonly ContractStatusChange[];
}

/** Where a contract lives in the LexiContract web app (also written onto CRM records). */
export function contractUrl(publicBaseUrl: string, contractId: string): string {
  return `${publicBaseUrl}/contracts/${contractId}`;
}

export function toContract(row: ContractRow): Contract {
  return {
    id: row.id,
    organizationId: row.organization_id,
    title: row.title,
    externalSource: row.external_source,
    externalId: row.external_id,
    externalAccountId: row.external_account_id,
    negotiationStatus: row.negotiation_status,
    statusVersion: row.status_version,
    sourceSnapshot: row.source_snapshot ?? null,
    metadata: ContractMetadataSchema.catch({}).parse(row.metadata),
    metadataMappingVersion: row.metadata_mapping_version,
    createdBySource: row.created_by_source,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toContractFile(row: ContractFileRow): ContractFile {
  return {
    id: row.id,
    contractId: row.contract_id,
    organizationId: row.organization_id,
    name: row.name,
    contentType: row.content_type,
    sizeBytes: row.size_bytes,
    sha256: row.sha256 ?? '',
    externalFileId: row.external_file_id,
    origin: row.origin,
    replacesFileId: row.replaces_file_id,
    uploadedBy: row.uploaded_by,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

export function toContractStatusChange(row: ContractStatusChangeRow): ContractStatusChange {
  return {
    id: row.id,
    contractId: row.contract_id,
    organizationId: row.organization_id,
    from: row.from_status,
    to: row.to_status,
    source: row.source,
    actor: row.actor,
    at: row.created_at,
  };
}
