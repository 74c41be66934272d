import { sql, type Kysely } from 'kysely';

/**
 * Deal → contract import (issue 5).
 *
 * - `contracts.import_state`: a contract made from a HubSpot deal is a shell while its deal
 *   and files are fetched (`importing`), then `complete` or `failed` (with `import_error`).
 *   `import_summary` records what was imported and what was skipped and why. Contracts made
 *   any other way keep `import_state` null.
 * - `hubspot_workflow_executions`: one row per (portal, callbackId) of the "Send to
 *   LexiContract legal review" workflow action. The primary key makes a retried execution
 *   find the first one; `response` is exactly what we answered, so a retry gets the identical
 *   answer; `completion` is what the callback completion carried.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table contracts
      add column import_state text check (import_state in ('importing', 'complete', 'failed')),
      add column import_error text,
      add column import_summary jsonb;

    create table hubspot_workflow_executions (
      portal_id text not null,
      callback_id text not null,
      organization_id uuid not null references organizations (id) on delete cascade,
      deal_id text not null,
      contract_id uuid references contracts (id) on delete set null,
      response jsonb not null,
      state text not null default 'blocked'
        check (state in ('blocked', 'completed', 'completion_failed')),
      completion jsonb,
      completion_error text,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      primary key (portal_id, callback_id)
    );
    create index hubspot_workflow_executions_contract on hubspot_workflow_executions (contract_id);
    create index hubspot_workflow_executions_org on hubspot_workflow_executions (organization_id, created_at desc);
  `.execute(db);
}
