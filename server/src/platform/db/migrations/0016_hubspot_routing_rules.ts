import { sql, type Kysely } from 'kysely';

/**
 * Routing rules and automatic sends on stage entry (issue 17, items 3 and 5).
 *
 * - `hubspot_routing_rule_sets`: an organization's ordered routing rules, one row per saved
 *   version (forward only: a save adds version n + 1, the newest is in force), so a contract
 *   can name the version that routed it and an admin can see what changed.
 * - `hubspot_auto_send_claims`: one row per deal and rule that sent it automatically (or
 *   found it already in review). The primary key is the idempotency key: a stage change
 *   HubSpot delivers three times, a deal moved back and forth, or a deal that skips past the
 *   trigger stage claims the same key, so the rule sends that deal at most once.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table hubspot_routing_rule_sets (
      organization_id uuid not null references organizations (id) on delete cascade,
      version integer not null check (version > 0),
      rules jsonb not null,
      default_outcome jsonb not null,
      created_by text not null,
      created_at timestamptz not null default now(),
      primary key (organization_id, version)
    );

    create table hubspot_auto_send_claims (
      portal_id text not null,
      deal_id text not null,
      rule_id text not null,
      organization_id uuid not null references organizations (id) on delete cascade,
      rules_version integer not null,
      stage_id text not null,
      outcome text not null check (outcome in ('sent', 'already_in_review')),
      contract_id uuid references contracts (id) on delete set null,
      webhook_event_id bigint,
      claimed_at timestamptz not null default now(),
      primary key (portal_id, deal_id, rule_id)
    );
    create index hubspot_auto_send_claims_org on hubspot_auto_send_claims (organization_id, claimed_at);
  `.execute(db);
}
