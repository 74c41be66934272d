import type { Kysely } from 'kysely';

import type { ContractImportState, ContractRow, DB } from '../../platform/db/schema.ts';
import { toContract, type Contract } from './contract.ts';
import { OPEN_STATUSES, type NegotiationStatus } from './status.ts';
import type { ContractMetadata } from './metadata-fields.ts';

/**
 * Contracts made from a record of an external system (a CRM deal) and the state of their
 * import. CRM adapters call these instead of touching the contract tables: this module and
 * its neighbours in core/contracts are the only code with SQL on them.
 */

/** The external record a contract was made from, within one organization. */
export interface ExternalRecordRef {
  readonly organizationId: string;
  /** The integration id, e.g. `hubspot`. */
  readonly source: string;
  /** The source account, e.g. the HubSpot portal id. */
  readonly accountId: string;
  /** The record's id in the source, e.g. the deal id. */
  readonly externalId: string;
}

/** A contract with the state of its import from the source record. */
export interface ImportedContract extends Contract {
  /** Null for a contract made in LexiContract. */
  readonly importState: ContractImportState | null;
  readonly importError: string | null;
  /** The last finished import's summary (adapter-defined JSON); null before the first. */
  readonly importSummary: unknown;
}

function toImportedContract(row: ContractRow): ImportedContract {
  return {
    ...toContract(row),
    importState: row.import_state,
    importError: row.import_error,
    importSummary: row.import_summary ?? null,
  };
}

/** The record's contracts, newest first; `openOnly` leaves out terminal statuses. */
export async function findContractsByExternalRef(
  db: Kysely<DB>,
  ref: ExternalRecordRef,
  options: { openOnly?: boolean; limit?: number; lockForShare?: boolean } = {},
): Promise<ImportedContract[]> {
  let query = db
    .selectFrom('contracts')
    .selectAll()
    .where('organization_id', '=', ref.organizationId)
    .where('external_source', '=', ref.source)
    .where('external_account_id', '=', ref.accountId)
    .where('external_id', '=', ref.externalId);
  if (options.openOnly) query = query.where('negotiation_status', 'in', [...OPEN_STATUSES]);
  query = query.orderBy('created_at', 'desc').orderBy('id', 'desc');
  if (options.limit !== undefined) query = query.limit(options.limit);
  if (options.lockForShare) query = query.forShare();
  const rows = await query.execute();
  return rows.map(toImportedContract);
}

/** One contract with its import state, or undefined when it is not the organization's. */
export async function findImportedContract(
  db: Kysely<DB>,
  organizationId: string,
  contractId: string,
  options: { lockForUpdate?: boolean } = {},
): Promise<ImportedContract | undefined> {
  let query = db
    .selectFrom('contracts')
    .selectAll()
    .where('id', '=', contractId)
    .where('organization_id', '=', organizationId);
  if (options.lockForUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row ? toImportedContract(row) : undefined;
}

/** Marks an import as running (a first import, or a re-send onto an open contract). */
export async function markImportStarted(db: Kysely<DB>, contractId: string): Promise<void> {
  await db
    .updateTable('contracts')
    .set({ import_state: 'importing', updated_at: new Date() })
    .where('id', '=', contractId)
    .execute();
}

/**
 * Stores the source record as read at import time; `title` replaces the contract's title
 * (the adapter passes it only on a first import, so a title edited since is kept).
 */
export async function recordSourceSnapshot(
  db: Kysely<DB>,
  contractId: string,
  snapshot: unknown,
  title?: string,
): Promise<void> {
  await db
    .updateTable('contracts')
    .set({
      source_snapshot: JSON.stringify(snapshot),
      ...(title !== undefined ? { title: title.slice(0, 500) } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', contractId)
    .execute();
}

/** Stores the contract's metadata fields and the mapping version that produced them. */
export async function recordContractMetadata(
  db: Kysely<DB>,
  contractId: string,
  metadata: ContractMetadata,
  mappingVersion: number | null,
): Promise<void> {
  await db
    .updateTable('contracts')
    .set({
      metadata: JSON.stringify(metadata),
      metadata_mapping_version: mappingVersion,
      updated_at: new Date(),
    })
    .where('id', '=', contractId)
    .execute();
}

/** The source file ids of the contract's complete files (to skip what is already there). */
export async function listImportedExternalFileIds(
  db: Kysely<DB>,
  contractId: string,
): Promise<Set<string>> {
  const rows = await db
    .selectFrom('contract_files')
    .select('external_file_id')
    .where('contract_id', '=', contractId)
    .where('state', '=', 'complete')
    .where('external_file_id', 'is not', null)
    .execute();
  return new Set(rows.flatMap((r) => (r.external_file_id === null ? [] : [r.external_file_id])));
}

export type ImportOutcome =
  | { readonly state: 'complete'; readonly summary: unknown }
  | { readonly state: 'failed'; readonly error: string }
  /** A failed re-send onto a contract imported before: it stays usable, with the error. */
  | { readonly state: 'complete_with_error'; readonly error: string };

/** Records how an import ended; undefined when the contract is gone. */
export async function setImportOutcome(
  db: Kysely<DB>,
  organizationId: string,
  contractId: string,
  outcome: ImportOutcome,
): Promise<{ id: string; negotiationStatus: NegotiationStatus } | undefined> {
  const values =
    outcome.state === 'complete'
      ? {
          import_state: 'complete' as const,
          import_error: null,
          import_summary: JSON.stringify(outcome.summary),
        }
      : {
          import_state: outcome.state === 'failed' ? ('failed' as const) : ('complete' as const),
          import_error: outcome.error.slice(0, 2000),
        };
  const row = await db
    .updateTable('contracts')
    .set({ ...values, updated_at: new Date() })
    .where('id', '=', contractId)
    .where('organization_id', '=', organizationId)
    .returning(['id', 'negotiation_status'])
    .executeTakeFirst();
  return row ? { id: row.id, negotiationStatus: row.negotiation_status } : undefined;
}

/**
 * Contracts of `source` still `importing` with no change since `updatedBefore`, oldest first:
 * candidates for the sweep to finish (their import job may have died).
 */
export async function listStuckImports(
  db: Kysely<DB>,
  filter: { source: string; updatedBefore: Date; limit: number },
): Promise<ImportedContract[]> {
  const rows = await db
    .selectFrom('contracts')
    .selectAll()
    .where('external_source', '=', filter.source)
    .where('import_state', '=', 'importing')
    .where('updated_at', '<', filter.updatedBefore)
    .orderBy('updated_at')
    .limit(filter.limit)
    .execute();
  return rows.map(toImportedContract);
}

/** Escapes LIKE's wildcards so a search term matches literally. */
function likeLiteral(term: string): string {
  let out = '';
  for (const ch of term) out += ch === '\\' || ch === '%' || ch === '_' ? `\\${ch}` : ch;
  return out;
}

/**
 * The organization's contracts for the contracts page, newest first: `q` matches a source
 * record id exactly or the title in part.
 */
export async function searchContracts(
  db: Kysely<DB>,
  organizationId: string,
  filters: { status?: NegotiationStatus; q?: string; limit: number },
): Promise<ImportedContract[]> {
  let query = db
    .selectFrom('contracts')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('created_at', 'desc')
    .limit(filters.limit);
  if (filters.status) query = query.where('negotiation_status', '=', filters.status);
  const term = filters.q;
  if (term) {
    query = query.where((eb) =>
      eb.or([eb('external_id', '=', term), eb('title', 'ilike', `%${likeLiteral(term)}%`)]),
    );
  }
  return (await query.execute()).map(toImportedContract);
}
