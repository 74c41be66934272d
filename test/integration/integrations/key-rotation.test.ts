import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  KeyringRejectedError,
  registerKeyring,
} from '../../../server/src/core/integrations/key-registry.ts';
import {
  formatKeyring,
  parseKeyring,
  type Keyring,
} from '../../../server/src/platform/crypto/keyring.ts';
import { rotateTokenKeys } from '../../../server/src/core/integrations/rotate-keys.ts';
import { ciphertextKeyId } from '../../../server/src/platform/crypto/token-cipher.ts';
import {
  disconnectIntegration,
  readIntegrationTokens,
  upsertOrganizationIntegration,
} from '../../../server/src/core/integrations/organization-integrations.ts';
import { createOrganization } from '../../../server/src/core/organizations/organizations.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';

// This file's database holds only the rows of the one scenario below: registerKeyring and
// rotateTokenKeys look at every connection, so no other test may add rows here.
const database = await createTestDatabase();
const { db } = database;

function ring(...keys: { id: string; key: Buffer }[]): Keyring {
  const parsed = parseKeyring(formatKeyring(keys));
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.keyring;
}

describe('token key rotation', () => {
  it('re-encrypts every row under the new key; dropping the old key is refused until then', async () => {
    const k1 = { id: 'rot1', key: randomBytes(32) };
    const k2 = { id: 'rot2', key: randomBytes(32) };
    const oldRing = ring(k1);
    expect(await registerKeyring(db, oldRing)).toEqual({
      currentKeyId: 'rot1',
      newlyRegistered: ['rot1'],
    });

    const connections: { id: string; accessToken: string; refreshToken: string }[] = [];
    for (let i = 0; i < 5; i += 1) {
      const org = await createOrganization(db, `Rotation org ${i}`);
      const accessToken = `access-${randomBytes(16).toString('hex')}`;
      const refreshToken = `refresh-${randomBytes(16).toString('hex')}`;
      const view = await upsertOrganizationIntegration(db, oldRing, {
        organizationId: org.id,
        integrationId: 'hubspot',
        externalAccountId: String(5_000_000 + i),
        accessToken,
        refreshToken,
        accessTokenExpiresAt: new Date(Date.now() + 1_800_000),
        grantedScopes: ['oauth'],
      });
      connections.push({ id: view.id, accessToken, refreshToken });
    }
    // A disconnected connection holds no tokens and needs no key.
    const idle = await createOrganization(db, 'Disconnected org');
    const idleView = await upsertOrganizationIntegration(db, oldRing, {
      organizationId: idle.id,
      integrationId: 'hubspot',
      externalAccountId: '5999999',
      accessToken: 'a',
      refreshToken: 'r',
      accessTokenExpiresAt: new Date(),
      grantedScopes: [],
    });
    await disconnectIntegration(db, idleView.id);

    // The new key alone is refused while rows still need the old one.
    const newOnly = ring(k2);
    const refusal = registerKeyring(db, newOnly);
    await expect(refusal).rejects.toBeInstanceOf(KeyringRejectedError);
    await expect(refusal).rejects.toMatchObject({
      code: 'encryption_key_still_in_use',
      keyIds: ['rot1'],
    });
    await expect(refusal).rejects.toThrow(
      /key rot1 is still used by 5 connections; keep them in TOKEN_ENCRYPTION_KEYS .*keys rotate/,
    );
    // Nothing was recorded by the refused call.
    const afterRefusal = await db.selectFrom('encryption_keys').select('id').execute();
    expect(afterRefusal.map((k) => k.id)).toEqual(['rot1']);

    // New key first, old key kept: accepted, and rotation moves every row.
    const rotatingRing = ring(k2, k1);
    expect(await registerKeyring(db, rotatingRing)).toMatchObject({
      currentKeyId: 'rot2',
      newlyRegistered: ['rot2'],
    });
    const result = await rotateTokenKeys(db, rotatingRing, { batchSize: 2 });
    expect(result).toMatchObject({
      currentKeyId: 'rot2',
      rotated: 5,
      failed: 0,
      remaining: 0,
    });

    const rows = await db
      .selectFrom('organization_integrations')
      .selectAll()
      .where('access_token_ciphertext', 'is not', null)
      .execute();
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row.token_key_id).toBe('rot2');
      expect(row.access_token_ciphertext && ciphertextKeyId(row.access_token_ciphertext)).toBe(
        'rot2',
      );
      expect(row.refresh_token_ciphertext && ciphertextKeyId(row.refresh_token_ciphertext)).toBe(
        'rot2',
      );
    }

    // Now the old key can go, and every token still reads back with the new key alone.
    await expect(registerKeyring(db, newOnly)).resolves.toMatchObject({ currentKeyId: 'rot2' });
    for (const c of connections) {
      const tokens = await readIntegrationTokens(db, newOnly, { id: c.id });
      expect(tokens.accessToken).toBe(c.accessToken);
      expect(tokens.refreshToken).toBe(c.refreshToken);
    }
    // And the old ring can no longer read them.
    await expect(
      readIntegrationTokens(db, oldRing, { id: connections[0]?.id ?? '' }),
    ).rejects.toMatchObject({ code: 'integration_token_unreadable' });

    // A second run has nothing left to do.
    expect(await rotateTokenKeys(db, newOnly)).toMatchObject({ rotated: 0, remaining: 0 });
  });
});
