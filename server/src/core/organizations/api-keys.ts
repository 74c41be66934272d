import { createHash, randomBytes } from 'node:crypto';

import type { Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import { UnauthorizedError } from '../../platform/errors.ts';
import { getOrganization } from './organizations.ts';

/**
 * Organization API keys: `lxc_<32 random bytes, base64url>`. Only a SHA-256 of the key is
 * stored (the key has 256 bits of entropy, so a fast hash is enough); the key is returned
 * once, at creation.
 */
const KEY_PREFIX = 'lxc_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface CreatedApiKey {
  readonly id: string;
  readonly organizationId: string;
  readonly name: string;
  /** The only time the key is shown. */
  readonly key: string;
  readonly prefix: string;
}

export async function createApiKey(
  db: Kysely<DB>,
  organizationId: string,
  name = 'API key',
): Promise<CreatedApiKey> {
  await getOrganization(db, organizationId);
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const prefix = key.slice(0, KEY_PREFIX.length + 6);
  const row = await db
    .insertInto('api_keys')
    .values({
      organization_id: organizationId,
      name,
      key_prefix: prefix,
      key_hash: hashApiKey(key),
    })
    .returning(['id'])
    .executeTakeFirstOrThrow();
  return { id: row.id, organizationId, name, key, prefix };
}

export interface ApiKeyPrincipal {
  readonly organizationId: string;
  readonly apiKeyId: string;
  readonly prefix: string;
}

/** Resolves a presented key to its organization, or throws a 401. */
export async function authenticateApiKey(
  db: Kysely<DB>,
  presented: string | undefined,
): Promise<ApiKeyPrincipal> {
  if (!presented?.startsWith(KEY_PREFIX) || presented.length > 200) {
    throw new UnauthorizedError(
      'invalid_api_key',
      'A valid API key is required (Authorization: Bearer <key>)',
    );
  }
  const row = await db
    .updateTable('api_keys')
    .set({ last_used_at: new Date() })
    .where('key_hash', '=', hashApiKey(presented))
    .where('revoked_at', 'is', null)
    .returning(['id', 'organization_id', 'key_prefix'])
    .executeTakeFirst();
  if (!row) {
    throw new UnauthorizedError(
      'invalid_api_key',
      'A valid API key is required (Authorization: Bearer <key>)',
    );
  }
  return { organizationId: row.organization_id, apiKeyId: row.id, prefix: row.key_prefix };
}
