import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import type { Keyring } from './keyring.ts';

/**
 * AES-256-GCM for OAuth tokens at rest. Every value gets a fresh 96-bit nonce, carries the
 * id of the key that sealed it, and is bound by associated data to the row and column it
 * belongs to, so a ciphertext copied into another tenant's row (or from the access-token
 * column into the refresh-token column) fails to decrypt. There is no plaintext mode.
 *
 * Layout: version (1 byte) | key id length (1) | key id | nonce (12) | ciphertext | tag (16)
 */

const FORMAT_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** What a ciphertext is bound to; all parts are non-secret identifiers. */
export interface TokenBinding {
  readonly table: string;
  readonly rowId: string;
  readonly column: string;
}

export class TokenDecryptionError extends Error {
  readonly code = 'token_decryption_failed';
  constructor(reason: string) {
    super(`Stored token could not be decrypted: ${reason}`);
    this.name = 'TokenDecryptionError';
  }
}

function associatedData(binding: TokenBinding, keyId: string): Buffer {
  return Buffer.from(
    `lexicontract-token:v${FORMAT_VERSION}|${binding.table}|${binding.rowId}|${binding.column}|${keyId}`,
    'utf8',
  );
}

export function encryptToken(keyring: Keyring, plaintext: string, binding: TokenBinding): Buffer {
  const { id, key } = keyring.current;
  const keyId = Buffer.from(id, 'utf8');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(binding, id));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([
    Buffer.from([FORMAT_VERSION, keyId.length]),
    keyId,
    nonce,
    body,
    cipher.getAuthTag(),
  ]);
}

/** The id of the key that sealed a ciphertext (readable without decrypting). */
export function ciphertextKeyId(sealed: Buffer): string {
  if (sealed.length < 2 || sealed[0] !== FORMAT_VERSION) {
    throw new TokenDecryptionError('unknown format');
  }
  const idLength = sealed[1] ?? 0;
  return sealed.subarray(2, 2 + idLength).toString('utf8');
}

export function decryptToken(keyring: Keyring, sealed: Buffer, binding: TokenBinding): string {
  const keyId = ciphertextKeyId(sealed);
  const key = keyring.keys.get(keyId);
  if (!key) throw new TokenDecryptionError(`key ${keyId} is not in TOKEN_ENCRYPTION_KEYS`);
  const offset = 2 + Buffer.byteLength(keyId, 'utf8');
  if (sealed.length < offset + NONCE_BYTES + TAG_BYTES) {
    throw new TokenDecryptionError('truncated');
  }
  const nonce = sealed.subarray(offset, offset + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(offset + NONCE_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(binding, keyId));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new TokenDecryptionError('authentication failed (tampered, wrong key or wrong row)');
  }
}
