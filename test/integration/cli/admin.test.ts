import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  formatKeyring,
  parseKeyring,
  type Keyring,
} from '../../../server/src/platform/crypto/keyring.ts';
import { ciphertextKeyId } from '../../../server/src/platform/crypto/token-cipher.ts';
import {
  disconnectIntegration,
  readIntegrationTokens,
  upsertOrganizationIntegration,
} from '../../../server/src/core/integrations/organization-integrations.ts';
import { authenticateApiKey } from '../../../server/src/core/organizations/api-keys.ts';
import { createOrganization } from '../../../server/src/core/organizations/organizations.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';

const database = await createTestDatabase();
const { db } = database;
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const adminScript = fileURLToPath(new URL('../../../server/src/cli/admin.ts', import.meta.url));

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the admin CLI as its own process against this file's database. */
function admin(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [adminScript, ...args],
      {
        cwd: repoRoot,
        // A clean environment: only what the CLI needs, never the developer's HubSpot keys.
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function ring(...keys: { id: string; key: Buffer }[]): Keyring {
  const parsed = parseKeyring(formatKeyring(keys));
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.keyring;
}

describe('admin CLI', () => {
  it('org create → org list → api-key create prints a key that authenticates', async () => {
    const name = `CLI Org ${randomBytes(4).toString('hex')}`;
    const created = await admin(['org', 'create', '--name', name]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const organization = JSON.parse(created.stdout) as { id: string; name: string };
    expect(organization.name).toBe(name);
    expect(organization.id).toMatch(/^[0-9a-f-]{36}$/);

    const listed = await admin(['org', 'list']);
    expect(listed.code).toBe(0);
    const organizations = JSON.parse(listed.stdout) as {
      id: string;
      name: string;
      hubspotPortalIds: string[];
    }[];
    expect(organizations).toContainEqual(
      expect.objectContaining({ id: organization.id, name, hubspotPortalIds: [] }),
    );

    const issued = await admin(['api-key', 'create', '--org', organization.id, '--name', 'CI']);
    expect(issued.code).toBe(0);
    const apiKey = JSON.parse(issued.stdout) as { key: string; organizationId: string };
    expect(apiKey.organizationId).toBe(organization.id);
    const principal = await authenticateApiKey(db, apiKey.key);
    expect(principal.organizationId).toBe(organization.id);

    const audit = await db
      .selectFrom('audit_log')
      .select('action')
      .where('organization_id', '=', organization.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['organization.created', 'api_key.created']);
  });

  it('org list shows the HubSpot portal linked to an organization', async () => {
    const organization = await createOrganization(db, 'Linked org');
    const portal = String(30_000_000 + randomBytes(2).readUInt16BE(0));
    const keyring = ring({ id: `cli${randomBytes(3).toString('hex')}`, key: randomBytes(32) });
    // Disconnected right away (the link stays) so the key-rotation test below never sees its key.
    const view = await upsertOrganizationIntegration(db, keyring, {
      organizationId: organization.id,
      integrationId: 'hubspot',
      externalAccountId: portal,
      accessToken: 'a',
      refreshToken: 'r',
      accessTokenExpiresAt: new Date(),
      grantedScopes: [],
    });
    await disconnectIntegration(db, view.id);

    const listed = await admin(['org', 'list']);
    expect(listed.code).toBe(0);
    const organizations = JSON.parse(listed.stdout) as { id: string; hubspotPortalIds: string[] }[];
    expect(organizations.find((o) => o.id === organization.id)?.hubspotPortalIds).toEqual([portal]);
  });

  it('db migrate reports nothing left to apply on a migrated database', async () => {
    const result = await admin(['db', 'migrate']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ applied: [] });
  });

  it('keys rotate refuses a ring missing a key in use, then re-encrypts every row', async () => {
    const oldKey = { id: `old${randomBytes(3).toString('hex')}`, key: randomBytes(32) };
    const newKey = { id: `new${randomBytes(3).toString('hex')}`, key: randomBytes(32) };
    const organization = await createOrganization(db, 'Rotating org');
    const view = await upsertOrganizationIntegration(db, ring(oldKey), {
      organizationId: organization.id,
      integrationId: 'hubspot',
      externalAccountId: String(40_000_000 + randomBytes(2).readUInt16BE(0)),
      accessToken: 'cli-access-token',
      refreshToken: 'cli-refresh-token',
      accessTokenExpiresAt: new Date(Date.now() + 1_800_000),
      grantedScopes: ['oauth'],
    });

    const refused = await admin(['keys', 'rotate'], {
      TOKEN_ENCRYPTION_KEYS: formatKeyring([newKey]),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe('');
    const refusal = JSON.parse(refused.stderr) as { error: { code: string; message: string } };
    expect(refusal.error.code).toBe('encryption_key_still_in_use');
    expect(refusal.error.message).toContain(`key ${oldKey.id} is still used by 1 connection`);
    expect(refused.stderr).not.toContain(newKey.key.toString('base64'));

    const rotated = await admin(['keys', 'rotate', '--batch-size', '10'], {
      TOKEN_ENCRYPTION_KEYS: formatKeyring([newKey, oldKey]),
    });
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({
      currentKeyId: newKey.id,
      rotated: 1,
      failed: 0,
      remaining: 0,
      complete: true,
    });
    const row = await db
      .selectFrom('organization_integrations')
      .selectAll()
      .where('id', '=', view.id)
      .executeTakeFirstOrThrow();
    expect(row.token_key_id).toBe(newKey.id);
    expect(row.access_token_ciphertext && ciphertextKeyId(row.access_token_ciphertext)).toBe(
      newKey.id,
    );
    expect((await readIntegrationTokens(db, ring(newKey), row)).refreshToken).toBe(
      'cli-refresh-token',
    );

    const status = await admin(['keys', 'status'], {
      TOKEN_ENCRYPTION_KEYS: formatKeyring([newKey]),
    });
    expect(status.code).toBe(0);
    const keys = (JSON.parse(status.stdout) as { keys: { id: string; connections: number }[] })
      .keys;
    expect(keys.find((k) => k.id === newKey.id)?.connections).toBe(1);
    expect(keys.find((k) => k.id === oldKey.id)?.connections).toBe(0);
  });

  it('user login-link prints a one-time sign-in link for the organization', async () => {
    const organization = await createOrganization(db, 'Login link org');
    const result = await admin(
      ['user', 'login-link', '--org', organization.id, '--email', 'Legal@Example.test'],
      { PUBLIC_BASE_URL: 'https://lexi.example.test' },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const link = JSON.parse(result.stdout) as { url: string; organizationId: string };
    expect(link.organizationId).toBe(organization.id);
    expect(link.url).toMatch(/^https:\/\/lexi\.example\.test\/sign-in\/link\?token=[\w%-]+$/);
    const user = await db
      .selectFrom('users')
      .select('email')
      .where('organization_id', '=', organization.id)
      .executeTakeFirst();
    expect(user?.email).toBe('legal@example.test');
  });

  describe('bad input: exit ≠ 0, a message on stderr, nothing on stdout', () => {
    const cases: { args: string[]; code?: number; stderr: RegExp }[] = [
      { args: [], code: 2, stderr: /no command given[\s\S]*Usage:/ },
      { args: ['frobnicate'], code: 2, stderr: /unknown command: frobnicate[\s\S]*Usage:/ },
      { args: ['org', 'create'], code: 2, stderr: /--name is required/ },
      { args: ['org', 'create', '--name'], code: 2, stderr: /--name/ },
      { args: ['org', 'list', '--verbose'], code: 2, stderr: /Unknown option '--verbose'/ },
      { args: ['api-key', 'create'], code: 2, stderr: /--org is required/ },
      { args: ['user', 'login-link'], code: 2, stderr: /--org is required/ },
      { args: ['keys', 'rotate', '--batch-size', 'many'], code: 2, stderr: /--batch-size/ },
      {
        args: ['api-key', 'create', '--org', '00000000-0000-4000-8000-000000000000'],
        code: 1,
        stderr: /"code":"organization_not_found"/,
      },
      {
        args: ['org', 'create', '--name', 'x'.repeat(201)],
        code: 1,
        stderr: /"code":"invalid_name"/,
      },
    ];
    for (const c of cases) {
      it(`admin ${c.args.join(' ').slice(0, 60) || '(nothing)'}`, async () => {
        const result = await admin(c.args);
        expect(result.code).not.toBe(0);
        if (c.code !== undefined) expect(result.code).toBe(c.code);
        expect(result.stdout).toBe('');
        expect(result.stderr).toMatch(c.stderr);
      });
    }

    it('a bad configuration names the variable and not its value', async () => {
      const secret = randomBytes(31).toString('base64');
      const result = await admin(['org', 'list'], { TOKEN_ENCRYPTION_KEYS: `k1:${secret}` });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('TOKEN_ENCRYPTION_KEYS');
      expect(result.stderr).not.toContain(secret);
    });
  });
});
