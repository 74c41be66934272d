import { sql, type Kysely } from 'kysely';

/**
 * The outbox of writes to HubSpot deals: one row per (portal, deal) holding the latest
 * desired `lexicontract_status` / `lexicontract_contract_url` and a version from a sequence.
 * A status change upserts it in its own transaction, so pending writes coalesce per deal and
 * only the latest value is ever sent; the sync marks a row synced only if its version is
 * still the one it sent (compare-and-set), so a newer change is never lost or overwritten.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create sequence hubspot_deal_sync_version_seq;

    create table hubspot_deal_sync (
      portal_id text not null,
      deal_id text not null,
      organization_id uuid not null references organizations (id) on delete cascade,
      contract_id uuid references contracts (id) on delete set null,
      desired_status text not null,
      desired_contract_url text,
      version bigint not null default nextval('hubspot_deal_sync_version_seq'),
      state text not null default 'pending' check (state in ('pending', 'synced', 'failed', 'gone')),
      attempts integer not null default 0,
      last_error text,
      synced_version bigint,
      synced_status text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      synced_at timestamptz,
      primary key (portal_id, deal_id)
    );
    create index hubspot_deal_sync_pending on hubspot_deal_sync (portal_id, updated_at)
      where state = 'pending';
    create index hubspot_deal_sync_org on hubspot_deal_sync (organization_id, state);
  `.execute(db);
}
