import { sql, type Kysely } from 'kysely';

/**
 * Two-way status sync:
 * - a claim lease on the deal-sync outbox (several batches of one portal in flight, a dead
 *   worker's claims lapse on their own);
 * - the per-portal rate limiter shared by every process (a sliding-window log of send times,
 *   plus a pause after a 429);
 * - inbound webhook events, stored once under HubSpot's composite identity;
 * - "wait for legal decision" workflow callbacks.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table hubspot_deal_sync
      add column claim_token uuid,
      add column claimed_until timestamptz,
      add column failure_cause text;

    create table hubspot_rate_sends (
      id bigserial primary key,
      portal_id text not null,
      lane text not null,
      sent_at timestamptz not null
    );
    create index hubspot_rate_sends_portal on hubspot_rate_sends (portal_id, sent_at);

    create table hubspot_rate_pauses (
      portal_id text primary key,
      paused_until timestamptz not null,
      reason text
    );

    create table hubspot_webhook_events (
      id bigserial primary key,
      portal_id text not null,
      organization_id uuid not null references organizations (id) on delete cascade,
      subscription_id bigint not null,
      event_id bigint not null,
      occurred_at bigint not null,
      object_id text not null,
      property_name text not null default '',
      subscription_type text not null,
      property_value text,
      change_source text,
      source_id text,
      received_at timestamptz not null default now(),
      processed_at timestamptz,
      outcome text,
      unique (portal_id, subscription_id, event_id, occurred_at, object_id, property_name)
    );
    create index hubspot_webhook_events_pending on hubspot_webhook_events (portal_id, occurred_at)
      where processed_at is null;
    create index hubspot_webhook_events_object
      on hubspot_webhook_events (portal_id, object_id, property_name, occurred_at)
      where processed_at is not null;
    create index hubspot_webhook_events_org on hubspot_webhook_events (organization_id, received_at);

    create table hubspot_decision_callbacks (
      portal_id text not null,
      callback_id text not null,
      organization_id uuid not null references organizations (id) on delete cascade,
      deal_id text not null,
      state text not null default 'waiting'
        check (state in ('waiting', 'completing', 'completed', 'expired')),
      decision text,
      contract_id uuid references contracts (id) on delete set null,
      expires_at timestamptz not null,
      attempts integer not null default 0,
      last_error text,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      primary key (portal_id, callback_id)
    );
    create index hubspot_decision_callbacks_deal on hubspot_decision_callbacks (portal_id, deal_id)
      where state in ('waiting', 'completing');
  `.execute(db);
}
