import type { Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import { resealIntegrationTokens } from './organization-integrations.ts';
import { integrationTokenBinding } from './token-binding.ts';
import { ensureCurrentKeyRegistered } from './key-registry.ts';
import type { Keyring } from '../../platform/crypto/keyring.ts';
import {
  decryptToken,
  encryptToken,
  type TokenBinding,
} from '../../platform/crypto/token-cipher.ts';

/**
 * Online key rotation (`npm run admin -- keys rotate`): every stored token not sealed with
 * the ring's current key is decrypted with its old key and sealed again with the current
 * one. Runs in small transactions that lock only their batch (`for update skip locked`),
 * so the app keeps refreshing and reading tokens meanwhile; a row the app holds locked is
 * picked up on a later pass. A row's access and refresh tokens move together in one
 * statement, so `token_key_id` always names the key of both.
 */

export interface RotationResult {
  readonly currentKeyId: string;
  /** Rows re-encrypted under the current key by this run. */
  readonly rotated: number;
  /** Rows that could not be decrypted (damaged, or their key is not in the ring). */
  readonly failed: number;
  /** Rows still on an old key after the last pass (e.g. kept locked by the app). */
  readonly remaining: number;
  readonly failedRowIds: readonly string[];
}

export async function rotateTokenKeys(
  db: Kysely<DB>,
  keyring: Keyring,
  options: { batchSize?: number; maxPasses?: number; retryDelayMs?: number } = {},
): Promise<RotationResult> {
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 50, 1000));
  const maxPasses = Math.max(1, options.maxPasses ?? 5);
  const retryDelayMs = options.retryDelayMs ?? 500;
  const currentKeyId = keyring.current.id;
  await ensureCurrentKeyRegistered(db, keyring);

  let rotated = 0;
  const failedRowIds: string[] = [];
  let remaining = 0;
  for (let pass = 0; pass < maxPasses; pass += 1) {
    for (;;) {
      const done = await db.transaction().execute(async (trx) => {
        let query = trx
          .selectFrom('organization_integrations')
          .select(['id', 'access_token_ciphertext', 'refresh_token_ciphertext'])
          .where('token_key_id', 'is not', null)
          .where('token_key_id', '<>', currentKeyId)
          .orderBy('id')
          .limit(batchSize)
          .forUpdate()
          .skipLocked();
        if (failedRowIds.length > 0) query = query.where('id', 'not in', failedRowIds);
        const rows = await query.execute();
        for (const row of rows) {
          let access: Buffer | null;
          let refresh: Buffer | null;
          try {
            access = reseal(
              keyring,
              row.access_token_ciphertext,
              integrationTokenBinding(row.id, 'access_token_ciphertext'),
            );
            refresh = reseal(
              keyring,
              row.refresh_token_ciphertext,
              integrationTokenBinding(row.id, 'refresh_token_ciphertext'),
            );
          } catch {
            failedRowIds.push(row.id);
            continue;
          }
          await resealIntegrationTokens(trx, row.id, { access, refresh, keyId: currentKeyId });
          rotated += 1;
        }
        return rows.length === 0;
      });
      if (done) break;
    }
    let countQuery = db
      .selectFrom('organization_integrations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('token_key_id', 'is not', null)
      .where('token_key_id', '<>', currentKeyId);
    if (failedRowIds.length > 0) countQuery = countQuery.where('id', 'not in', failedRowIds);
    remaining = (await countQuery.executeTakeFirstOrThrow()).n;
    if (remaining === 0 || pass === maxPasses - 1) break;
    // Whatever is left is locked by the running app right now; try again shortly.
    await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
  }
  return { currentKeyId, rotated, failed: failedRowIds.length, remaining, failedRowIds };
}

function reseal(keyring: Keyring, sealed: Buffer | null, where: TokenBinding): Buffer | null {
  if (sealed === null) return null;
  return encryptToken(keyring, decryptToken(keyring, sealed, where), where);
}
