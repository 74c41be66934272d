import { sql, type Kysely } from 'kysely';

/**
 * Report-ready deal properties and the deal timeline (issue 15 items 4–5).
 *
 * - `hubspot_portal_settings.timeline_notes`: write timeline notes on deals; on by default.
 * - `hubspot_timeline_notes`: one row per (contract, event) — `sent_to_legal`,
 *   `new_version_sent`, `decision:<status change id>` — claimed before the note is created
 *   and holding the HubSpot note id once made, so a retried or replayed job never writes a
 *   second note for the same event. `last_error` says why one was skipped or failed.
 * - Connected HubSpot portals set up before this migration lack the new deal properties:
 *   their setup is marked pending again, so the sweep provisions them (idempotently), and
 *   the deal sync sends the new properties only once a portal's setup is done.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table hubspot_portal_settings
      add column timeline_notes boolean not null default true;

    create table hubspot_timeline_notes (
      contract_id uuid not null references contracts (id) on delete cascade,
      event_key text not null check (length(event_key) between 1 and 200),
      organization_id uuid not null references organizations (id) on delete cascade,
      portal_id text not null,
      deal_id text not null,
      state text not null default 'pending'
        check (state in ('pending', 'written', 'failed', 'skipped')),
      hubspot_note_id text,
      last_error text,
      attempts integer not null default 0,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (contract_id, event_key)
    );
    create index hubspot_timeline_notes_org on hubspot_timeline_notes (organization_id);

    update organization_integrations
       set provisioning_status = 'pending'
     where integration_id = 'hubspot' and provisioning_status = 'done';
  `.execute(db);
}
