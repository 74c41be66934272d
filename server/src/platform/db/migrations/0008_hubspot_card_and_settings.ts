import { sql, type Kysely } from 'kysely';

/**
 * The Deal card and the settings page (issue 7).
 *
 * - `hubspot_portal_settings`: one row per organization (absent = defaults) with what a
 *   HubSpot admin sets on the app's settings page: what a deal moved to a closed-lost stage
 *   does to its open contracts, and which attachments the card preselects / a send imports.
 * - `hubspot_card_requests`: one row per "send" click of the Deal card (`hubspot.fetch`
 *   retries once on a 5xx, and a rep may double-click). The primary key makes a repeated
 *   request find the first one and get its answer again instead of a second contract.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table hubspot_portal_settings (
      organization_id uuid primary key references organizations (id) on delete cascade,
      closed_lost_behavior text not null default 'cancel_contract'
        check (closed_lost_behavior in ('cancel_contract', 'do_nothing')),
      attachment_filter_mode text not null default 'all'
        check (attachment_filter_mode in ('all', 'matching')),
      attachment_name_pattern text
        check (attachment_name_pattern is null or char_length(attachment_name_pattern) between 1 and 200),
      updated_by text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((attachment_filter_mode = 'matching') = (attachment_name_pattern is not null))
    );

    create table hubspot_card_requests (
      portal_id text not null,
      idempotency_key text not null,
      organization_id uuid not null references organizations (id) on delete cascade,
      deal_id text not null,
      hubspot_user_id text not null,
      contract_id uuid references contracts (id) on delete set null,
      response jsonb,
      created_at timestamptz not null default now(),
      primary key (portal_id, idempotency_key)
    );
    create index hubspot_card_requests_created on hubspot_card_requests (created_at);
  `.execute(db);
}
