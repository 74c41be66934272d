import type { Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';

export type AuditOutcome = 'success' | 'failure' | 'refused';

export interface AuditEntry {
  readonly organizationId: string | null;
  /** Who acted: `user:<id>`, `api_key:<prefix>`, `hubspot:portal:<id>`, `system`, `cli`. */
  readonly actor: string;
  /** What happened, dotted: `contract.status_changed`, `hubspot.oauth.callback`. */
  readonly action: string;
  readonly target?: string | null;
  readonly outcome: AuditOutcome;
  /** Non-secret context; never tokens, codes or keys. */
  readonly details?: Record<string, unknown>;
}

/** Appends one row to the audit log; pass a transaction to commit it with the change. */
export async function recordAudit(db: Kysely<DB>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      organization_id: entry.organizationId,
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      outcome: entry.outcome,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

export interface AuditRecord {
  readonly id: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly outcome: string;
  readonly details: unknown;
  readonly createdAt: Date;
}

export interface AuditFilter {
  /** The stored actor, exactly. */
  readonly actor?: string;
  readonly action?: string;
  /** Entries about this contract (target `contract:<id>`). */
  readonly contractId?: string;
  /** Keyset pagination: entries older than this id. */
  readonly beforeId?: number;
  readonly limit: number;
}

/**
 * The organization's entries, newest first, filtered. Returns one more than `limit` when
 * there are older ones (the caller shows `limit` and links to the next page).
 */
export async function listAuditEntries(
  db: Kysely<DB>,
  organizationId: string,
  filter: AuditFilter,
): Promise<AuditRecord[]> {
  let query = db
    .selectFrom('audit_log')
    .select(['id', 'actor', 'action', 'target', 'outcome', 'details', 'created_at'])
    .where('organization_id', '=', organizationId);
  if (filter.actor) query = query.where('actor', '=', filter.actor);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.contractId) query = query.where('target', '=', `contract:${filter.contractId}`);
  if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
  const rows = await query
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    actor: r.actor,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    details: r.details,
    createdAt: r.created_at,
  }));
}

/** The actors and actions seen in the organization's log, for the filter menus. */
export async function auditFacets(
  db: Kysely<DB>,
  organizationId: string,
): Promise<{ actors: string[]; actions: string[] }> {
  const [actors, actions] = await Promise.all([
    db
      .selectFrom('audit_log')
      .select('actor')
      .distinct()
      .where('organization_id', '=', organizationId)
      .orderBy('actor')
      .limit(200)
      .execute(),
    db
      .selectFrom('audit_log')
      .select('action')
      .distinct()
      .where('organization_id', '=', organizationId)
      .orderBy('action')
      .limit(200)
      .execute(),
  ]);
  return { actors: actors.map((r) => r.actor), actions: actions.map((r) => r.action) };
}
