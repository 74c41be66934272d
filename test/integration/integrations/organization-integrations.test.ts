import { randomBytes, randomUUID } from 'node:crypto';

import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { ensureCurrentKeyRegistered } from '../../../server/src/core/integrations/key-registry.ts';
import { ciphertextKeyId } from '../../../server/src/platform/crypto/token-cipher.ts';
import { ConflictError, NotFoundError } from '../../../server/src/platform/errors.ts';
import {
  disconnectIntegration,
  findIntegrationByExternalAccount,
  getOrganizationIntegration,
  IntegrationNotConnectedError,
  IntegrationTokenUnreadableError,
  markIntegrationStatus,
  PortalLinkedToOtherOrganizationError,
  readIntegrationTokens,
  toOrganizationIntegrationView,
  upsertOrganizationIntegration,
  type UpsertOrganizationIntegrationInput,
} from '../../../server/src/core/integrations/organization-integrations.ts';
import { createOrganization } from '../../../server/src/core/organizations/organizations.ts';
import { testConfig } from '../../helpers/test-app.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';

const database = await createTestDatabase();
const { db } = database;
const keyring = testConfig().tokenEncryptionKeys;

function newPortalId(): string {
  return String(10_000_000 + randomBytes(3).readUIntBE(0, 3));
}

function token(kind: string): string {
  return `${kind}-${randomBytes(24).toString('base64url')}`;
}

async function newOrganization(): Promise<string> {
  return (await createOrganization(db, `Org ${randomBytes(4).toString('hex')}`)).id;
}

function connection(
  organizationId: string,
  externalAccountId: string,
  overrides: Partial<UpsertOrganizationIntegrationInput> = {},
): UpsertOrganizationIntegrationInput {
  return {
    organizationId,
    integrationId: 'hubspot',
    externalAccountId,
    externalAccountName: 'Acme Inc.',
    accessToken: token('access'),
    refreshToken: token('refresh'),
    accessTokenExpiresAt: new Date(Date.now() + 30 * 60 * 1000),
    grantedScopes: ['oauth', 'crm.objects.deals.read'],
    installerUserId: '777',
    installerEmail: 'admin@acme.test',
    ...overrides,
  };
}

async function rowsOf(organizationId: string) {
  return db
    .selectFrom('organization_integrations')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .execute();
}

describe('upsertOrganizationIntegration', () => {
  it('creates one connection, then updates that same row', async () => {
    const org = await newOrganization();
    const portal = newPortalId();
    const first = connection(org, portal);
    const created = await upsertOrganizationIntegration(db, keyring, first);
    expect(created).toMatchObject({
      organizationId: org,
      integrationId: 'hubspot',
      externalAccountId: portal,
      externalAccountName: 'Acme Inc.',
      status: 'connected',
      grantedScopes: ['oauth', 'crm.objects.deals.read'],
      hasTokens: true,
      installerUserId: '777',
      installerEmail: 'admin@acme.test',
      lastError: null,
    });
    expect(await readIntegrationTokens(db, keyring, { id: created.id })).toEqual({
      accessToken: first.accessToken,
      refreshToken: first.refreshToken,
      expiresAt: first.accessTokenExpiresAt,
    });

    const second = connection(org, portal, {
      externalAccountName: 'Acme Holdings',
      grantedScopes: ['oauth', 'crm.objects.deals.read', 'crm.objects.deals.write'],
      installerEmail: 'other-admin@acme.test',
      accessTokenExpiresAt: new Date(Date.now() + 60 * 60 * 1000),
    });
    const updated = await upsertOrganizationIntegration(db, keyring, second);
    expect(updated.id).toBe(created.id);
    expect(updated.externalAccountName).toBe('Acme Holdings');
    expect(updated.grantedScopes).toEqual(second.grantedScopes);
    expect(updated.installerEmail).toBe('other-admin@acme.test');

    const rows = await rowsOf(org);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    if (!row) throw new Error('row missing');
    expect(row.token_key_id).toBe(keyring.current.id);
    expect(await readIntegrationTokens(db, keyring, row)).toEqual({
      accessToken: second.accessToken,
      refreshToken: second.refreshToken,
      expiresAt: second.accessTokenExpiresAt,
    });
    const fetched = await getOrganizationIntegration(db, org, 'hubspot');
    expect(fetched?.id).toBe(created.id);
    expect((await findIntegrationByExternalAccount(db, 'hubspot', portal))?.organization_id).toBe(
      org,
    );
  });

  it('stores no plaintext token anywhere in the row', async () => {
    const org = await newOrganization();
    const input = connection(org, newPortalId());
    const view = await upsertOrganizationIntegration(db, keyring, input);

    const row = await db
      .selectFrom('organization_integrations')
      .select(['access_token_ciphertext', 'refresh_token_ciphertext', 'token_key_id'])
      .where('id', '=', view.id)
      .executeTakeFirstOrThrow();
    for (const sealed of [row.access_token_ciphertext, row.refresh_token_ciphertext]) {
      expect(sealed).toBeInstanceOf(Buffer);
      if (!sealed) continue;
      expect(ciphertextKeyId(sealed)).toBe(keyring.current.id);
      for (const plain of [input.accessToken, input.refreshToken]) {
        expect(sealed.includes(Buffer.from(plain, 'utf8'))).toBe(false);
      }
    }
    // The same check inside Postgres, over the bytea values and the whole row as text.
    const { rows } = await sql<{ hits: number }>`
      select count(*)::int as hits from organization_integrations t
      where t.id = ${view.id}
        and (position(convert_to(${input.accessToken}, 'UTF8') in t.access_token_ciphertext) > 0
          or position(convert_to(${input.refreshToken}, 'UTF8') in t.refresh_token_ciphertext) > 0
          or position(convert_to(${input.accessToken}, 'UTF8') in t.refresh_token_ciphertext) > 0
          or t::text like ${`%${input.accessToken}%`}
          or t::text like ${`%${input.refreshToken}%`})
    `.execute(db);
    expect(rows[0]?.hits).toBe(0);
  });

  it('refuses a portal already linked to another organization and changes nothing', async () => {
    const orgA = await newOrganization();
    const orgB = await newOrganization();
    const portal = newPortalId();
    const original = connection(orgA, portal);
    const linked = await upsertOrganizationIntegration(db, keyring, original);
    const before = await rowsOf(orgA);

    const attempt = upsertOrganizationIntegration(db, keyring, connection(orgB, portal));
    await expect(attempt).rejects.toBeInstanceOf(PortalLinkedToOtherOrganizationError);
    await expect(attempt).rejects.toMatchObject({
      code: 'portal_linked_to_other_organization',
      httpStatus: 409,
    });

    expect(await rowsOf(orgB)).toEqual([]);
    expect(await rowsOf(orgA)).toEqual(before);
    expect(await readIntegrationTokens(db, keyring, { id: linked.id })).toMatchObject({
      accessToken: original.accessToken,
      refreshToken: original.refreshToken,
    });
  });

  it('refuses moving an existing connection onto a portal another organization holds', async () => {
    const orgA = await newOrganization();
    const orgB = await newOrganization();
    const portalA = newPortalId();
    const portalB = newPortalId();
    await upsertOrganizationIntegration(db, keyring, connection(orgA, portalA));
    const own = await upsertOrganizationIntegration(db, keyring, connection(orgB, portalB));

    await expect(
      upsertOrganizationIntegration(db, keyring, connection(orgB, portalA)),
    ).rejects.toBeInstanceOf(PortalLinkedToOtherOrganizationError);
    const [row] = await rowsOf(orgB);
    expect(row?.id).toBe(own.id);
    expect(row?.external_account_id).toBe(portalB);
  });

  it('lets exactly one of two concurrent organizations claim a new portal', async () => {
    const orgs = [await newOrganization(), await newOrganization()];
    const portal = newPortalId();
    const results = await Promise.allSettled(
      orgs.map((org) => upsertOrganizationIntegration(db, keyring, connection(org, portal))),
    );
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(PortalLinkedToOtherOrganizationError);
    const linked = await findIntegrationByExternalAccount(db, 'hubspot', portal);
    expect(orgs).toContain(linked?.organization_id);
  });

  it('translates the unique-constraint backstop when a racing writer commits first', async () => {
    const orgA = await newOrganization();
    const orgB = await newOrganization();
    const portal = newPortalId();
    // The key is registered beforehand, so the only lock B can wait on is the portal's.
    await ensureCurrentKeyRegistered(db, keyring);
    // A holds the portal in a transaction that has not committed yet, so B's check sees
    // nothing and B's insert waits on the unique index until A commits.
    const trx = await db.startTransaction().execute();
    await upsertOrganizationIntegration(trx, keyring, connection(orgA, portal));
    const attempt = upsertOrganizationIntegration(db, keyring, connection(orgB, portal));
    attempt.catch(() => undefined);
    for (;;) {
      const { rows } = await sql<{ waiting: number }>`
        select count(*)::int as waiting from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'
      `.execute(db);
      if ((rows[0]?.waiting ?? 0) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await trx.commit().execute();
    await expect(attempt).rejects.toBeInstanceOf(PortalLinkedToOtherOrganizationError);
    expect(await rowsOf(orgB)).toEqual([]);
    expect((await findIntegrationByExternalAccount(db, 'hubspot', portal))?.organization_id).toBe(
      orgA,
    );
  });

  it('rejects an unknown organization or integration with typed errors', async () => {
    await expect(
      upsertOrganizationIntegration(db, keyring, connection(randomUUID(), newPortalId())),
    ).rejects.toBeInstanceOf(NotFoundError);
    const org = await newOrganization();
    await expect(
      upsertOrganizationIntegration(
        db,
        keyring,
        connection(org, newPortalId(), { integrationId: 'pipedrive' }),
      ),
    ).rejects.toMatchObject({ code: 'unknown_integration' });
    expect(await rowsOf(org)).toEqual([]);
  });

  it('commits with the caller when given a transaction, and rolls back with it', async () => {
    const org = await newOrganization();
    await expect(
      db.transaction().execute(async (trx) => {
        await upsertOrganizationIntegration(trx, keyring, connection(org, newPortalId()));
        throw new Error('caller failed later');
      }),
    ).rejects.toThrow('caller failed later');
    expect(await rowsOf(org)).toEqual([]);
  });
});

describe('connection lifecycle', () => {
  it('disconnect wipes both tokens and the key id, keeps the row and the portal link', async () => {
    const org = await newOrganization();
    const other = await newOrganization();
    const portal = newPortalId();
    const created = await upsertOrganizationIntegration(db, keyring, connection(org, portal));

    const view = await disconnectIntegration(db, created.id);
    expect(view).toMatchObject({
      id: created.id,
      status: 'disconnected',
      hasTokens: false,
      externalAccountId: portal,
    });
    const [row] = await rowsOf(org);
    expect(row).toMatchObject({
      id: created.id,
      status: 'disconnected',
      access_token_ciphertext: null,
      refresh_token_ciphertext: null,
      token_key_id: null,
      access_token_expires_at: null,
      external_account_id: portal,
    });
    expect(row?.disconnected_at).toBeInstanceOf(Date);
    await expect(readIntegrationTokens(db, keyring, { id: created.id })).rejects.toBeInstanceOf(
      IntegrationNotConnectedError,
    );

    // The portal stays this organization's: another organization cannot take it over...
    await expect(
      upsertOrganizationIntegration(db, keyring, connection(other, portal)),
    ).rejects.toBeInstanceOf(PortalLinkedToOtherOrganizationError);
    // ...and reconnecting restores the same row.
    const again = connection(org, portal);
    const reconnected = await upsertOrganizationIntegration(db, keyring, again);
    expect(reconnected).toMatchObject({ id: created.id, status: 'connected', hasTokens: true });
    expect(reconnected.disconnectedAt).toBeNull();
    expect((await readIntegrationTokens(db, keyring, { id: created.id })).accessToken).toBe(
      again.accessToken,
    );
  });

  it('marks needs_reconnect with the reason, and connected clears it', async () => {
    const org = await newOrganization();
    const created = await upsertOrganizationIntegration(
      db,
      keyring,
      connection(org, newPortalId()),
    );
    const broken = await markIntegrationStatus(
      db,
      created.id,
      'needs_reconnect',
      'invalid_grant: refresh token revoked',
    );
    expect(broken.status).toBe('needs_reconnect');
    expect(broken.lastError).toBe('invalid_grant: refresh token revoked');
    expect(broken.lastErrorAt).toBeInstanceOf(Date);
    expect(broken.hasTokens).toBe(true);

    const healed = await markIntegrationStatus(db, created.id, 'connected');
    expect(healed).toMatchObject({ status: 'connected', lastError: null, lastErrorAt: null });

    await disconnectIntegration(db, created.id);
    await expect(markIntegrationStatus(db, created.id, 'connected')).rejects.toBeInstanceOf(
      IntegrationNotConnectedError,
    );
    await expect(markIntegrationStatus(db, randomUUID(), 'connected')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(disconnectIntegration(db, randomUUID())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a ciphertext copied into another row does not decrypt there', async () => {
    const orgA = await newOrganization();
    const orgB = await newOrganization();
    const a = await upsertOrganizationIntegration(db, keyring, connection(orgA, newPortalId()));
    const b = await upsertOrganizationIntegration(db, keyring, connection(orgB, newPortalId()));
    await sql`
      update organization_integrations
      set access_token_ciphertext = (select access_token_ciphertext from organization_integrations where id = ${a.id})
      where id = ${b.id}
    `.execute(db);
    await expect(readIntegrationTokens(db, keyring, { id: b.id })).rejects.toBeInstanceOf(
      IntegrationTokenUnreadableError,
    );

    // Swapping access and refresh within one row fails too.
    await sql`
      update organization_integrations
      set access_token_ciphertext = refresh_token_ciphertext,
          refresh_token_ciphertext = access_token_ciphertext
      where id = ${a.id}
    `.execute(db);
    await expect(readIntegrationTokens(db, keyring, { id: a.id })).rejects.toMatchObject({
      code: 'integration_token_unreadable',
    });
  });

  it('the safe view carries no token material', async () => {
    const org = await newOrganization();
    const input = connection(org, newPortalId());
    await upsertOrganizationIntegration(db, keyring, input);
    const row = await getOrganizationIntegration(db, org, 'hubspot');
    if (!row) throw new Error('row missing');
    const view = toOrganizationIntegrationView(row);
    const json = JSON.stringify(view);
    expect(json).not.toContain(input.accessToken);
    expect(json).not.toContain(input.refreshToken);
    expect(json).not.toMatch(/ciphertext|token_key_id/i);
    const sealed = row.access_token_ciphertext?.toString('base64') ?? 'missing';
    expect(json).not.toContain(sealed);
    expect(Object.keys(view)).not.toContain('accessToken');
  });

  it('a conflict error is a ConflictError the HTTP layer maps to 409', () => {
    const error = new PortalLinkedToOtherOrganizationError('hubspot', '123');
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain('123');
  });
});
