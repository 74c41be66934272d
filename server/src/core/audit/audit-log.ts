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
