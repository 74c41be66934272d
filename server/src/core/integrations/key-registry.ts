import type { Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import type { EncryptionKey, Keyring } from '../../platform/crypto/keyring.ts';

/**
 * Keeps `encryption_keys` in step with `TOKEN_ENCRYPTION_KEYS`. Every key id is recorded with
 * a fingerprint of its material, so a key id cannot silently be given different material,
 * and a key that still seals stored tokens cannot be dropped from the ring before
 * `npm run admin -- keys rotate` has moved those tokens to the current key.
 */

export type KeyringRejectedCode =
  'encryption_key_fingerprint_mismatch' | 'encryption_key_still_in_use';

/** The ring does not fit what the database holds. Names key ids, never key material. */
export class KeyringRejectedError extends Error {
  readonly code: KeyringRejectedCode;
  readonly keyIds: readonly string[];

  constructor(code: KeyringRejectedCode, message: string, keyIds: readonly string[]) {
    super(message);
    this.name = 'KeyringRejectedError';
    this.code = code;
    this.keyIds = keyIds;
  }
}

export interface KeyringRegistration {
  readonly currentKeyId: string;
  /** Key ids recorded for the first time by this call. */
  readonly newlyRegistered: readonly string[];
}

/**
 * Called at every start (and by the key CLI commands): records each key id of the ring with
 * its fingerprint, and refuses a ring that gives a known key id different material or lacks
 * a key id that stored tokens still use. Nothing is written when it refuses.
 */
export async function registerKeyring(
  db: Kysely<DB>,
  keyring: Keyring,
): Promise<KeyringRegistration> {
  return db.transaction().execute(async (trx) => {
    const keys = [...keyring.keys.values()];
    const inserted = await trx
      .insertInto('encryption_keys')
      .values(keys.map((k) => ({ id: k.id, fingerprint: k.fingerprint })))
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    await assertFingerprintsMatch(trx, keys);

    const inUse = await trx
      .selectFrom('organization_integrations')
      .select(['token_key_id', (eb) => eb.fn.countAll<number>().as('connections')])
      .where('token_key_id', 'is not', null)
      .groupBy('token_key_id')
      .orderBy('token_key_id')
      .execute();
    const missing = inUse.filter((row) => row.token_key_id && !keyring.keys.has(row.token_key_id));
    if (missing.length > 0) {
      const described = missing
        .map((row) => {
          const n = row.connections;
          return `key ${String(row.token_key_id)} is still used by ${n} connection${n === 1 ? '' : 's'}`;
        })
        .join('; ');
      throw new KeyringRejectedError(
        'encryption_key_still_in_use',
        `TOKEN_ENCRYPTION_KEYS is missing keys that stored tokens need: ${described}; ` +
          'keep them in TOKEN_ENCRYPTION_KEYS (after the current key) until ' +
          '`npm run admin -- keys rotate` has finished',
        missing.map((row) => String(row.token_key_id)),
      );
    }
    return {
      currentKeyId: keyring.current.id,
      newlyRegistered: inserted.map((row) => row.id),
    };
  });
}

/**
 * Makes sure the current key is recorded before a ciphertext references it (the
 * `token_key_id` foreign key), refusing a known id with different material. For writers
 * that may run before `registerKeyring` (tests, scripts); cheap when already recorded.
 */
export async function ensureCurrentKeyRegistered(db: Kysely<DB>, keyring: Keyring): Promise<void> {
  const { id, fingerprint } = keyring.current;
  await db
    .insertInto('encryption_keys')
    .values({ id, fingerprint })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  await assertFingerprintsMatch(db, [keyring.current]);
}

async function assertFingerprintsMatch(
  db: Kysely<DB>,
  keys: readonly EncryptionKey[],
): Promise<void> {
  if (keys.length === 0) return;
  const stored = await db
    .selectFrom('encryption_keys')
    .select(['id', 'fingerprint'])
    .where(
      'id',
      'in',
      keys.map((k) => k.id),
    )
    .execute();
  const byId = new Map(stored.map((row) => [row.id, row.fingerprint]));
  const mismatched = keys.filter((k) => {
    const fingerprint = byId.get(k.id);
    return fingerprint !== undefined && fingerprint !== k.fingerprint;
  });
  if (mismatched.length > 0) {
    const ids = mismatched.map((k) => k.id);
    throw new KeyringRejectedError(
      'encryption_key_fingerprint_mismatch',
      `TOKEN_ENCRYPTION_KEYS gives key id${ids.length === 1 ? '' : 's'} ${ids.join(', ')} ` +
        'different key material than the database has recorded for that id; restore the ' +
        'original key, or add the new key under a new id and run `npm run admin -- keys rotate`',
      ids,
    );
  }
}
