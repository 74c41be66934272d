import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  formatKeyring,
  keyFingerprint,
  parseKeyring,
  type Keyring,
} from '../../../server/src/platform/crypto/keyring.ts';
import {
  ciphertextKeyId,
  decryptToken,
  encryptToken,
  TokenDecryptionError,
  type TokenBinding,
} from '../../../server/src/platform/crypto/token-cipher.ts';

function ring(...keys: { id: string; key: Buffer }[]): Keyring {
  const parsed = parseKeyring(formatKeyring(keys));
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.keyring;
}

const K1 = { id: 'k1', key: randomBytes(32) };
const K2 = { id: 'k2', key: randomBytes(32) };
const ROW_A = '6f1c9a52-0a4e-4b7e-9a57-1d2b3c4d5e6f';
const ROW_B = '0b8e2d71-5c3a-4f10-8e2b-7a6b5c4d3e2f';
const ACCESS: TokenBinding = {
  table: 'organization_integrations',
  rowId: ROW_A,
  column: 'access_token_ciphertext',
};
const TOKEN = 'CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKmlwHjX7OIpuIFEavB2-qYAGQsF4';

describe('token cipher', () => {
  it('round-trips a token and records the sealing key id', () => {
    const keyring = ring(K1);
    const sealed = encryptToken(keyring, TOKEN, ACCESS);
    expect(ciphertextKeyId(sealed)).toBe('k1');
    expect(sealed.includes(Buffer.from(TOKEN))).toBe(false);
    expect(decryptToken(keyring, sealed, ACCESS)).toBe(TOKEN);
  });

  it('round-trips empty, long and non-ASCII values', () => {
    const keyring = ring(K1);
    for (const value of ['', 'x'.repeat(4096), 'tökén ✓ 令牌']) {
      expect(decryptToken(keyring, encryptToken(keyring, value, ACCESS), ACCESS)).toBe(value);
    }
  });

  it('fails when any single byte of the ciphertext is changed', () => {
    const keyring = ring(K1);
    const sealed = encryptToken(keyring, TOKEN, ACCESS);
    for (let i = 0; i < sealed.length; i += 1) {
      const tampered = Buffer.from(sealed);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      expect(() => decryptToken(keyring, tampered, ACCESS), `byte ${i}`).toThrow(
        TokenDecryptionError,
      );
    }
  });

  it('fails when the ciphertext is truncated or extended', () => {
    const keyring = ring(K1);
    const sealed = encryptToken(keyring, TOKEN, ACCESS);
    expect(() => decryptToken(keyring, sealed.subarray(0, sealed.length - 1), ACCESS)).toThrow(
      TokenDecryptionError,
    );
    expect(() => decryptToken(keyring, sealed.subarray(0, 10), ACCESS)).toThrow(
      TokenDecryptionError,
    );
    expect(() => decryptToken(keyring, Buffer.concat([sealed, Buffer.from([0])]), ACCESS)).toThrow(
      TokenDecryptionError,
    );
  });

  it('fails with the wrong key under the same key id', () => {
    const sealed = encryptToken(ring(K1), TOKEN, ACCESS);
    const impostor = ring({ id: 'k1', key: randomBytes(32) });
    expect(() => decryptToken(impostor, sealed, ACCESS)).toThrow(TokenDecryptionError);
  });

  it('fails when the sealing key is not in the ring, naming only its id', () => {
    const sealed = encryptToken(ring(K1), TOKEN, ACCESS);
    let message = '';
    try {
      decryptToken(ring(K2), sealed, ACCESS);
    } catch (error) {
      expect(error).toBeInstanceOf(TokenDecryptionError);
      message = (error as Error).message;
    }
    expect(message).toContain('k1');
    expect(message).not.toContain(K1.key.toString('base64'));
  });

  it('binds the ciphertext to its row: swapping across rows fails', () => {
    const keyring = ring(K1);
    const sealed = encryptToken(keyring, TOKEN, ACCESS);
    expect(() => decryptToken(keyring, sealed, { ...ACCESS, rowId: ROW_B })).toThrow(
      TokenDecryptionError,
    );
  });

  it('binds the ciphertext to its column: swapping access and refresh fails', () => {
    const keyring = ring(K1);
    const sealed = encryptToken(keyring, TOKEN, ACCESS);
    expect(() =>
      decryptToken(keyring, sealed, { ...ACCESS, column: 'refresh_token_ciphertext' }),
    ).toThrow(TokenDecryptionError);
  });

  it('binds the ciphertext to its table', () => {
    const keyring = ring(K1);
    const sealed = encryptToken(keyring, TOKEN, ACCESS);
    expect(() => decryptToken(keyring, sealed, { ...ACCESS, table: 'other_table' })).toThrow(
      TokenDecryptionError,
    );
  });

  it('refuses a ciphertext whose header claims another key id in the ring', () => {
    const keyring = ring(K2, K1);
    const sealed = encryptToken(ring(K1), TOKEN, ACCESS);
    // Rewrite the header to name k2 (same length id): AAD includes the key id, so it fails.
    const relabelled = Buffer.from(sealed);
    relabelled.write('k2', 2, 'utf8');
    expect(ciphertextKeyId(relabelled)).toBe('k2');
    expect(() => decryptToken(keyring, relabelled, ACCESS)).toThrow(TokenDecryptionError);
  });

  it('uses a fresh nonce for every encryption', () => {
    const keyring = ring(K1);
    const nonces = new Set<string>();
    const ciphertexts = new Set<string>();
    const count = 2000;
    for (let i = 0; i < count; i += 1) {
      const sealed = encryptToken(keyring, TOKEN, ACCESS);
      const nonceOffset = 2 + 'k1'.length;
      nonces.add(sealed.subarray(nonceOffset, nonceOffset + 12).toString('hex'));
      ciphertexts.add(sealed.toString('hex'));
    }
    expect(nonces.size).toBe(count);
    expect(ciphertexts.size).toBe(count);
  });

  it('keeps decrypting with an old key after a new current key is added', () => {
    const old = ring(K1);
    const sealedOld = encryptToken(old, TOKEN, ACCESS);
    const rotated = ring(K2, K1);
    expect(decryptToken(rotated, sealedOld, ACCESS)).toBe(TOKEN);
    const sealedNew = encryptToken(rotated, TOKEN, ACCESS);
    expect(ciphertextKeyId(sealedNew)).toBe('k2');
    expect(decryptToken(rotated, sealedNew, ACCESS)).toBe(TOKEN);
    // The old ring alone cannot read what the new key sealed.
    expect(() => decryptToken(old, sealedNew, ACCESS)).toThrow(TokenDecryptionError);
  });
});

describe('key ring', () => {
  it('takes the first key as current and keeps every key for decryption', () => {
    const keyring = ring(K2, K1);
    expect(keyring.current.id).toBe('k2');
    expect([...keyring.keys.keys()]).toEqual(['k2', 'k1']);
    expect(keyring.keys.get('k1')?.key.equals(K1.key)).toBe(true);
  });

  it('fingerprints identify key material without revealing it', () => {
    const keyring = ring(K1);
    expect(keyring.current.fingerprint).toBe(keyFingerprint(K1.key));
    expect(keyring.current.fingerprint).not.toBe(keyFingerprint(K2.key));
    expect(keyring.current.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(K1.key.toString('hex')).not.toContain(keyring.current.fingerprint);
  });

  it.each([
    ['', 'no keys given'],
    ['k1', 'entry 1'],
    [`bad id!:${randomBytes(32).toString('base64')}`, 'key id'],
    [`k1:${randomBytes(16).toString('base64')}`, '16 bytes'],
    [`k1:${randomBytes(33).toString('base64')}`, '33 bytes'],
    ['k1:@@@@', 'base64'],
    [`k1:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`, 'twice'],
  ])('rejects %j with a problem mentioning %j', (value, expected) => {
    const parsed = parseKeyring(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(expected);
  });
});
