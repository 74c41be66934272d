import { sql, type Kysely } from 'kysely';

/**
 * Deal context and field mapping (issue 17 items 1–2).
 *
 * - `contracts.metadata`: the contract's metadata fields (counterparty legal name, value,
 *   currency, term, governing law, region, custom fields) by key, as the last send mapped
 *   them; `metadata_mapping_version` is the mapping version that did it (null: no mapping).
 * - `hubspot_field_mappings`: an organization's HubSpot property → metadata field mapping,
 *   one row per save (versions never change; the newest is the one in force).
 * - `hubspot_primary_company_choices`: the company an admin chose as a deal's counterparty
 *   where HubSpot marks none of its companies primary.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table contracts
      add column metadata jsonb not null default '{}'::jsonb,
      add column metadata_mapping_version integer;

    create table hubspot_field_mappings (
      organization_id uuid not null references organizations (id) on delete cascade,
      version integer not null check (version > 0),
      mapping jsonb not null,
      created_by text not null,
      created_at timestamptz not null default now(),
      primary key (organization_id, version)
    );

    create table hubspot_primary_company_choices (
      organization_id uuid not null references organizations (id) on delete cascade,
      deal_id text not null,
      company_id text not null,
      chosen_by text not null,
      chosen_at timestamptz not null default now(),
      primary key (organization_id, deal_id)
    );
  `.execute(db);
}
