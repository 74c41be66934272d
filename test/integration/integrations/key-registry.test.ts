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
import { createTestDatabase } from '../../helpers/test-db.ts';

// No connections are ever stored in this file's database; each test uses its own key ids.
const database = await createTestDatabase();
const { db } = database;

function ring(...keys: { id: string; key: Buffer }[]): Keyring {
  const parsed = parseKeyring(formatKeyring(keys));
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.keyring;
}

function keyId(): string {
  return `k${randomBytes(4).toString('hex')}`;
}

describe('registerKeyring', () => {
  it('records each key id with its fingerprint once, and accepts the same ring again', async () => {
    const a = { id: keyId(), key: randomBytes(32) };
    const b = { id: keyId(), key: randomBytes(32) };
    const keyring = ring(a, b);
    expect(await registerKeyring(db, keyring)).toEqual({
      currentKeyId: a.id,
      newlyRegistered: [a.id, b.id],
    });
    expect(await registerKeyring(db, keyring)).toEqual({
      currentKeyId: a.id,
      newlyRegistered: [],
    });
    const rows = await db
      .selectFrom('encryption_keys')
      .select(['id', 'fingerprint'])
      .where('id', 'in', [a.id, b.id])
      .orderBy('id')
      .execute();
    expect(rows).toEqual(
      [a, b]
        .map((k) => ({ id: k.id, fingerprint: keyring.keys.get(k.id)?.fingerprint }))
        .sort((x, y) => x.id.localeCompare(y.id)),
    );
  });

  it('refuses a known key id with different key material, without printing either key', async () => {
    const id = keyId();
    const original = randomBytes(32);
    const swapped = randomBytes(32);
    await registerKeyring(db, ring({ id, key: original }));
    const fresh = { id: keyId(), key: randomBytes(32) };

    const attempt = registerKeyring(db, ring(fresh, { id, key: swapped }));
    await expect(attempt).rejects.toBeInstanceOf(KeyringRejectedError);
    await expect(attempt).rejects.toMatchObject({
      code: 'encryption_key_fingerprint_mismatch',
      keyIds: [id],
    });
    const message = await attempt.catch((error: unknown) => (error as Error).message);
    expect(message).toContain(id);
    for (const material of [original, swapped, fresh.key]) {
      expect(message).not.toContain(material.toString('base64'));
      expect(message).not.toContain(material.toString('hex'));
    }
    // The refused call recorded nothing, not even the new key that came with it.
    const stored = await db
      .selectFrom('encryption_keys')
      .select('id')
      .where('id', '=', fresh.id)
      .execute();
    expect(stored).toEqual([]);
  });
});
