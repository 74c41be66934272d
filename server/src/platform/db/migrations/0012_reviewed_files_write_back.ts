import { sql, type Kysely } from 'kysely';

/**
 * Reviewed files and their way back to the deal (issue 15 items 1–2).
 *
 * - `contract_files.origin`: `imported` (fetched from the CRM record) or `uploaded` (a
 *   reviewed version legal uploaded). Every file stored before this migration came from the
 *   HubSpot import, hence the default. `replaces_file_id` is the version a file supersedes
 *   (same contract; the chain is the file's version history). `uploaded_by` is the actor.
 * - `hubspot_portal_settings.write_back_files`: on by default.
 * - `hubspot_file_writebacks`: one row per (contract, file) written back to the deal, with
 *   the HubSpot file id and note id once made, so a retried job never uploads a second copy
 *   nor writes a second note. `last_error` is what the contract page shows on failure.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table contract_files
      add column origin text not null default 'imported' check (origin in ('imported', 'uploaded')),
      add column replaces_file_id uuid references contract_files (id) on delete set null,
      add column uploaded_by text;
    create index contract_files_replaces on contract_files (replaces_file_id);

    alter table hubspot_portal_settings
      add column write_back_files boolean not null default true;

    create table hubspot_file_writebacks (
      contract_id uuid not null references contracts (id) on delete cascade,
      file_id uuid not null references contract_files (id) on delete cascade,
      organization_id uuid not null references organizations (id) on delete cascade,
      portal_id text not null,
      deal_id text not null,
      state text not null default 'pending'
        check (state in ('pending', 'uploaded', 'written', 'failed', 'skipped')),
      hubspot_file_id text,
      hubspot_note_id text,
      last_error text,
      attempts integer not null default 0,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (contract_id, file_id)
    );
    create index hubspot_file_writebacks_org on hubspot_file_writebacks (organization_id);
  `.execute(db);
}
