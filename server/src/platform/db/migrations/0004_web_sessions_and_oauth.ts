import { sql, type Kysely } from 'kysely';

/** Web sessions, one-time sign-in links, OAuth install state, and token-refresh leases. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Only hashes of session ids and link tokens are stored: a database read does not let
    -- anyone sign in.
    create table web_sessions (
      id_hash text primary key,
      user_id uuid not null references users (id) on delete cascade,
      organization_id uuid not null references organizations (id) on delete cascade,
      csrf_token text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz
    );
    create index web_sessions_user on web_sessions (user_id);

    create table sign_in_tokens (
      token_hash text primary key,
      user_id uuid not null references users (id) on delete cascade,
      organization_id uuid not null references organizations (id) on delete cascade,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    );

    -- One row per started OAuth install: single use, expiring, bound to the browser that
    -- started it through a hash of a cookie-held nonce.
    create table oauth_states (
      state_hash text primary key,
      browser_binding_hash text not null,
      organization_id uuid references organizations (id) on delete cascade,
      user_id uuid references users (id) on delete cascade,
      code_verifier text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    );

    alter table organization_integrations
      add column refresh_lease_until timestamptz,
      add column refresh_lease_owner text,
      add column provisioning_status text not null default 'pending'
        check (provisioning_status in ('pending', 'done', 'failed')),
      add column provisioning_error text,
      add column provisioned_at timestamptz;
  `.execute(db);
}
