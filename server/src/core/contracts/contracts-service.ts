import { sql, type Kysely, type Transaction } from 'kysely';

import { recordAudit } from '../audit/audit-log.ts';
import type { DB } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { ValidationError } from '../../platform/errors.ts';
import { isUuid } from '../organizations/organizations.ts';
import {
  toContract,
  toContractFile,
  toContractStatusChange,
  type Contract,
  type ContractDetail,
  type ContractStatusChange,
} from './contract.ts';
import {
  ContractNotFoundError,
  InvalidStatusTransitionError,
  StatusVersionConflictError,
} from './errors.ts';
import {
  allowedNextStatuses,
  canTransition,
  INITIAL_NEGOTIATION_STATUS,
  NEGOTIATION_STATUSES,
  NegotiationStatusSchema,
  type NegotiationStatus,
} from './status.ts';

/**
 * Contract use cases. Every function takes the organization explicitly and filters on it,
 * so a contract of another organization is indistinguishable from a missing one.
 */

function requireText(value: string, field: string, max: number): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) {
    throw new ValidationError(`Invalid ${field}`, [
      { path: field, message: `must be 1 to ${max} characters` },
    ]);
  }
  return trimmed;
}

function optionalText(value: string | null | undefined, field: string, max: number) {
  return value === undefined || value === null ? null : requireText(value, field, max);
}

// ---------------------------------------------------------------------------------------
// create

export interface CreateContractInput {
  readonly organizationId: string;
  readonly title: string;
  readonly externalSource?: string | null;
  readonly externalId?: string | null;
  readonly externalAccountId?: string | null;
  /** The channel that created it: `hubspot_workflow`, `hubspot_card`, `api`, `web`, … */
  readonly createdBySource: string;
  /** Who created it (same vocabulary as audit actors). */
  readonly actor: string;
  /** The source record at import time (e.g. the HubSpot deal); must be JSON-serialisable. */
  readonly sourceSnapshot?: unknown;
}

export interface ContractCreatedHooks {
  /** Runs inside the creating transaction; a throw rolls the contract back. */
  readonly onCreated?: (trx: Kysely<DB>, contract: Contract) => Promise<void>;
}

/**
 * Creates a contract in `pending_review` with its first history row (from null) and an
 * audit row, in one transaction. Pass a transaction as `db` to join a larger unit of work
 * (e.g. an idempotent import that records its dedupe key in the same commit).
 */
export async function createContract(
  db: Kysely<DB>,
  input: CreateContractInput,
  hooks: ContractCreatedHooks = {},
): Promise<Contract> {
  if (!isUuid(input.organizationId)) {
    throw new ValidationError('Invalid organization id', [
      { path: 'organizationId', message: 'must be a uuid' },
    ]);
  }
  const title = requireText(input.title, 'title', 500);
  const createdBySource = requireText(input.createdBySource, 'createdBySource', 100);
  const actor = requireText(input.actor, 'actor', 300);
  const snapshot =
    input.sourceSnapshot === undefined || input.sourceSnapshot === null
      ? null
      : JSON.stringify(input.sourceSnapshot);

  return inTransaction(db, async (trx) => {
    const row = await trx
      .insertInto('contracts')
      .values({
        organization_id: input.organizationId,
        title,
        external_source: optionalText(input.externalSource, 'externalSource', 100),
        external_id: optionalText(input.externalId, 'externalId', 200),
        external_account_id: optionalText(input.externalAccountId, 'externalAccountId', 200),
        negotiation_status: INITIAL_NEGOTIATION_STATUS,
        source_snapshot: snapshot,
        created_by_source: createdBySource,
        created_by: actor,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('contract_status_changes')
      .values({
        contract_id: row.id,
        organization_id: row.organization_id,
        from_status: null,
        to_status: row.negotiation_status,
        source: createdBySource,
        actor,
      })
      .execute();
    await recordAudit(trx, {
      organizationId: row.organization_id,
      actor,
      action: 'contract.created',
      target: `contract:${row.id}`,
      outcome: 'success',
      details: {
        source: createdBySource,
        external_source: row.external_source,
        external_id: row.external_id,
      },
    });
    const contract = toContract(row);
    if (hooks.onCreated) await hooks.onCreated(trx, contract);
    return contract;
  });
}

// ---------------------------------------------------------------------------------------
// status change

export interface ChangeContractStatusInput {
  readonly organizationId: string;
  readonly contractId: string;
  readonly to: NegotiationStatus;
  /** The channel: `api`, `web`, `hubspot`, `cli`, `system`, … */
  readonly source: string;
  /** Who: `api_key:<prefix>`, `user:<id>`, `hubspot:portal:<id>`, … */
  readonly actor: string;
  /** When set, the change is refused (409 `status_version_conflict`) unless it matches. */
  readonly expectedVersion?: number;
}

export interface ContractStatusChanged {
  /** The contract after the change. */
  readonly contract: Contract;
  readonly change: ContractStatusChange;
}

export interface ContractStatusHooks {
  /**
   * Runs INSIDE the status-change transaction, after the status, history and audit rows are
   * written. The extension point for work that must commit atomically with the change (the
   * CRM sync outbox); a throw rolls the whole change back.
   */
  readonly onStatusChanged?: (
    trx: Transaction<DB>,
    changed: ContractStatusChanged,
  ) => Promise<void>;
}

/**
 * Moves a contract to another status: locks the row, checks the transition table, then
 * writes the status (+1 version), the history row, the audit row and whatever the hook adds,
 * all in one transaction. A refused change throws a typed 409 and leaves a `refused` audit
 * row (written after the rollback, so it survives).
 *
 * `db` must not be a transaction: the refused audit row has to outlive the rollback.
 */
export async function changeContractStatus(
  db: Kysely<DB>,
  input: ChangeContractStatusInput,
  hooks: ContractStatusHooks = {},
): Promise<ContractStatusChanged> {
  if (db.isTransaction) {
    throw new Error('changeContractStatus opens its own transaction; pass the database, not a trx');
  }
  const parsedTo = NegotiationStatusSchema.safeParse(input.to);
  if (!parsedTo.success) {
    throw new ValidationError('Invalid negotiation status', [
      { path: 'negotiation_status', message: `must be one of ${NEGOTIATION_STATUSES.join(', ')}` },
    ]);
  }
  const to = parsedTo.data;
  const source = requireText(input.source, 'source', 100);
  const actor = requireText(input.actor, 'actor', 300);
  if (!isUuid(input.contractId) || !isUuid(input.organizationId)) {
    throw new ContractNotFoundError(input.contractId);
  }
  let refusedFrom: NegotiationStatus | undefined;
  try {
    return await db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('contracts')
        .select(['id', 'negotiation_status', 'status_version'])
        .where('id', '=', input.contractId)
        .where('organization_id', '=', input.organizationId)
        .forUpdate()
        .executeTakeFirst();
      if (!current) throw new ContractNotFoundError(input.contractId);
      const from = current.negotiation_status;
      refusedFrom = from;
      if (input.expectedVersion !== undefined && input.expectedVersion !== current.status_version) {
        throw new StatusVersionConflictError(input.expectedVersion, current.status_version);
      }
      if (!canTransition(from, to)) {
        throw new InvalidStatusTransitionError(from, to, allowedNextStatuses(from));
      }
      const now = new Date();
      const updated = await trx
        .updateTable('contracts')
        .set({
          negotiation_status: to,
          status_version: current.status_version + 1,
          updated_at: now,
        })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const changeRow = await trx
        .insertInto('contract_status_changes')
        .values({
          contract_id: current.id,
          organization_id: input.organizationId,
          from_status: from,
          to_status: to,
          source,
          actor,
          created_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, {
        organizationId: input.organizationId,
        actor,
        action: 'contract.status_changed',
        target: `contract:${current.id}`,
        outcome: 'success',
        details: { from, to, source, status_version: updated.status_version },
      });
      const changed: ContractStatusChanged = {
        contract: toContract(updated),
        change: toContractStatusChange(changeRow),
      };
      if (hooks.onStatusChanged) await hooks.onStatusChanged(trx, changed);
      return changed;
    });
  } catch (error) {
    if (
      error instanceof InvalidStatusTransitionError ||
      error instanceof StatusVersionConflictError
    ) {
      await recordAudit(db, {
        organizationId: input.organizationId,
        actor,
        action: 'contract.status_changed',
        target: `contract:${input.contractId}`,
        outcome: 'refused',
        details: { from: refusedFrom ?? null, to, source, reason: error.code },
      });
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// reads

export async function getContract(
  db: Kysely<DB>,
  organizationId: string,
  contractId: string,
): Promise<Contract> {
  const row =
    isUuid(contractId) && isUuid(organizationId)
      ? await db
          .selectFrom('contracts')
          .selectAll()
          .where('id', '=', contractId)
          .where('organization_id', '=', organizationId)
          .executeTakeFirst()
      : undefined;
  if (!row) throw new ContractNotFoundError(contractId);
  return toContract(row);
}

/** The contract with its complete files and its status history (oldest first). */
export async function getContractDetail(
  db: Kysely<DB>,
  organizationId: string,
  contractId: string,
): Promise<ContractDetail> {
  const contract = await getContract(db, organizationId, contractId);
  const [files, history] = await Promise.all([
    db
      .selectFrom('contract_files')
      .selectAll()
      .where('contract_id', '=', contract.id)
      .where('organization_id', '=', organizationId)
      .where('state', '=', 'complete')
      .orderBy('created_at')
      .orderBy('id')
      .execute(),
    db
      .selectFrom('contract_status_changes')
      .selectAll()
      .where('contract_id', '=', contract.id)
      .where('organization_id', '=', organizationId)
      .orderBy('id')
      .execute(),
  ]);
  return {
    contract,
    files: files.map(toContractFile),
    history: history.map(toContractStatusChange),
  };
}

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 200;

export interface ListContractsOptions {
  readonly externalId?: string;
  readonly externalSource?: string;
  readonly status?: NegotiationStatus;
  /** 1..MAX_LIST_LIMIT, default DEFAULT_LIST_LIMIT. */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface ContractPage {
  readonly items: readonly Contract[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

interface CursorPosition {
  /** created_at with microseconds, ISO 8601 UTC (JS Dates only keep milliseconds). */
  readonly createdAt: string;
  readonly id: string;
}

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString(
    'base64url',
  );
}

function decodeCursor(cursor: string): CursorPosition {
  const invalid = () =>
    new ValidationError('Invalid cursor', [
      { path: 'cursor', message: 'must be a next_cursor value returned by this endpoint' },
    ]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    !ISO_MICROS.test(parsed[0]) ||
    !isUuid(parsed[1])
  ) {
    throw invalid();
  }
  return { createdAt: parsed[0], id: parsed[1] };
}

/** The organization's contracts, newest first, keyset-paginated on (created_at, id). */
export async function listContracts(
  db: Kysely<DB>,
  organizationId: string,
  options: ListContractsOptions = {},
): Promise<ContractPage> {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new ValidationError('Invalid limit', [
      { path: 'limit', message: `must be an integer from 1 to ${MAX_LIST_LIMIT}` },
    ]);
  }
  if (!isUuid(organizationId)) return { items: [], nextCursor: null };
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);

  let query = db
    .selectFrom('contracts')
    .selectAll()
    .select(
      sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as(
        'cursor_created_at',
      ),
    )
    .where('organization_id', '=', organizationId);
  if (options.externalId !== undefined) query = query.where('external_id', '=', options.externalId);
  if (options.externalSource !== undefined) {
    query = query.where('external_source', '=', options.externalSource);
  }
  if (options.status !== undefined) query = query.where('negotiation_status', '=', options.status);
  if (after) {
    query = query.where(
      sql<boolean>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`,
    );
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();

  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => toContract(row)),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ createdAt: last.cursor_created_at, id: last.id })
        : null,
  };
}
