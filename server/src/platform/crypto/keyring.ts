import { createHash } from 'node:crypto';

/**
 * The token-encryption key ring from `TOKEN_ENCRYPTION_KEYS`
 * (`k2:<base64 32 bytes>,k1:<base64 32 bytes>`): the first key encrypts, every key decrypts.
 */
export interface EncryptionKey {
  readonly id: string;
  readonly key: Buffer;
  /** A non-secret digest identifying the key material, stored to catch a swapped key. */
  readonly fingerprint: string;
}

export interface Keyring {
  readonly current: EncryptionKey;
  readonly keys: ReadonlyMap<string, EncryptionKey>;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function keyFingerprint(key: Buffer): string {
  return createHash('sha256')
    .update('lexicontract-token-key:v1')
    .update(key)
    .digest('hex')
    .slice(0, 16);
}

export type KeyringParseResult = { ok: true; keyring: Keyring } | { ok: false; problem: string };

/** Parses a key ring; problems name the key id and position, never the key material. */
export function parseKeyring(value: string): KeyringParseResult {
  const entries = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (entries.length === 0) return { ok: false, problem: 'no keys given' };
  const keys = new Map<string, EncryptionKey>();
  const ordered: EncryptionKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    if (colon <= 0) {
      return { ok: false, problem: `entry ${index + 1} must look like <id>:<base64 key>` };
    }
    const id = entry.slice(0, colon);
    const material = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) {
      return {
        ok: false,
        problem: `entry ${index + 1}: key id must be 1-32 letters, digits, "_" or "-"`,
      };
    }
    if (!BASE64.test(material)) {
      return { ok: false, problem: `key ${id}: not valid base64` };
    }
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32) {
      return {
        ok: false,
        problem: `key ${id}: decodes to ${key.length} bytes, AES-256 needs exactly 32`,
      };
    }
    if (keys.has(id)) return { ok: false, problem: `key id ${id} appears twice` };
    const encryptionKey = { id, key, fingerprint: keyFingerprint(key) };
    keys.set(id, encryptionKey);
    ordered.push(encryptionKey);
  }
  const current = ordered[0];
  if (!current) return { ok: false, problem: 'no keys given' };
  return { ok: true, keyring: { current, keys } };
}

export function formatKeyring(keys: readonly { id: string; key: Buffer }[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
}
