import { sql, type Kysely } from 'kysely';

/**
 * Foundation schema. Migrations are forward-only and written against `Kysely<any>` so they
 * stay frozen in time whatever the current types say.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table organizations (
      id uuid primary key default gen_random_uuid(),
      name text not null check (length(name) between 1 and 200),
      created_at timestamptz not null default now()
    );

    create table users (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations (id) on delete cascade,
      email text not null,
      name text,
      hubspot_user_id text,
      created_at timestamptz not null default now(),
      unique (organization_id, email)
    );

    -- Only a SHA-256 of the key is stored; the key itself is shown once at creation.
    create table api_keys (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations (id) on delete cascade,
      name text not null,
      key_prefix text not null,
      key_hash text not null unique,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );

    create table integrations (
      id text primary key,
      name text not null,
      available boolean not null
    );
    insert into integrations (id, name, available) values
      ('hubspot', 'HubSpot', true),
      ('salesforce', 'Salesforce', false);

    -- Key ids seen in TOKEN_ENCRYPTION_KEYS with a fingerprint of their material: ciphertext
    -- rows reference them, so a key still in use cannot be dropped and a key id cannot
    -- silently be given different material.
    create table encryption_keys (
      id text primary key,
      fingerprint text not null,
      first_seen_at timestamptz not null default now()
    );

    create table organization_integrations (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations (id) on delete cascade,
      integration_id text not null references integrations (id),
      external_account_id text,
      external_account_name text,
      status text not null check (status in ('connected', 'needs_reconnect', 'disconnected')),
      granted_scopes text[] not null default '{}',
      access_token_ciphertext bytea,
      refresh_token_ciphertext bytea,
      token_key_id text references encryption_keys (id),
      access_token_expires_at timestamptz,
      installer_user_id text,
      installer_email text,
      last_error text,
      last_error_at timestamptz,
      connected_at timestamptz,
      disconnected_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (organization_id, integration_id),
      -- A HubSpot portal links to at most one organization.
      unique (integration_id, external_account_id),
      check ((access_token_ciphertext is null and refresh_token_ciphertext is null) or token_key_id is not null)
    );

    create table contracts (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations (id) on delete cascade,
      title text not null,
      external_source text,
      external_id text,
      external_account_id text,
      negotiation_status text not null check (negotiation_status in
        ('pending_review', 'in_review', 'changes_requested', 'approved', 'signed', 'rejected', 'cancelled')),
      status_version integer not null default 1,
      source_snapshot jsonb,
      created_by_source text not null,
      created_by text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index contracts_org_created on contracts (organization_id, created_at desc);
    create index contracts_external on contracts (organization_id, external_source, external_id);

    -- File bytes live in Postgres as 1 MiB chunks so every app instance can read them and
    -- memory stays bounded however large the file; 'complete' is set only after the last
    -- chunk and the hash are written, so a crashed upload is never visible as a file.
    create table contract_files (
      id uuid primary key default gen_random_uuid(),
      contract_id uuid not null references contracts (id) on delete cascade,
      organization_id uuid not null references organizations (id) on delete cascade,
      name text not null,
      content_type text not null,
      size_bytes bigint not null default 0,
      sha256 text,
      external_file_id text,
      state text not null default 'writing' check (state in ('writing', 'complete')),
      created_at timestamptz not null default now(),
      completed_at timestamptz
    );
    create index contract_files_contract on contract_files (contract_id);
    create unique index contract_files_unique_content on contract_files (contract_id, sha256)
      where state = 'complete';

    create table contract_file_chunks (
      file_id uuid not null references contract_files (id) on delete cascade,
      seq integer not null,
      data bytea not null,
      primary key (file_id, seq)
    );

    create table contract_status_changes (
      id bigserial primary key,
      contract_id uuid not null references contracts (id) on delete cascade,
      organization_id uuid not null references organizations (id) on delete cascade,
      from_status text,
      to_status text not null,
      source text not null,
      actor text,
      created_at timestamptz not null default now()
    );
    create index contract_status_changes_contract on contract_status_changes (contract_id, id);

    create table audit_log (
      id bigserial primary key,
      organization_id uuid references organizations (id),
      actor text not null,
      action text not null,
      target text,
      outcome text not null check (outcome in ('success', 'failure', 'refused')),
      details jsonb not null default '{}',
      created_at timestamptz not null default now()
    );
    create index audit_log_org on audit_log (organization_id, id desc);

    -- The audit log is append-only: rows can be added, never changed or removed.
    create function audit_log_is_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only';
    end $$;
    create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_is_append_only();
  `.execute(db);
}
