import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HubSpot request signatures (hubspot-platform.md §5), as pure functions.
 * - v1 (webhook deliveries): hex SHA-256 of `secret + rawBody`.
 * - v2 (workflow actions): hex SHA-256 of `secret + METHOD + URI + rawBody`.
 * - v3 (hubspot.fetch, webhooks): base64 HMAC-SHA256 (key = secret) of
 *   `METHOD + URI + rawBody + timestamp`, where URI has only 12 escapes decoded, and the
 *   timestamp (ms) must be within 5 minutes of now, either direction.
 * Verifiers never throw: malformed input yields `{ ok: false, reason }`.
 */

export type SignatureVersion = 'v1' | 'v2' | 'v3';

export type SignatureFailure =
  | 'missing_signature'
  | 'malformed_signature'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'timestamp_expired'
  | 'timestamp_in_future'
  | 'mismatch';

export type VerifyResult =
  | { readonly ok: true; readonly version: SignatureVersion }
  | { readonly ok: false; readonly reason: SignatureFailure };

export type RawBody = Buffer | string;

/** HubSpot's v3 freshness window. */
export const V3_MAX_SKEW_MS = 5 * 60 * 1000;

const V3_ESCAPES: Readonly<Record<string, string>> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/** Decodes exactly the 12 escapes HubSpot lists for v3 (either hex case); leaves the rest. */
export function decodeV3Uri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (match) => {
    return V3_ESCAPES[match.toUpperCase()] ?? match;
  });
}

function bodyBuffer(rawBody: RawBody | undefined): Buffer {
  if (rawBody === undefined) return Buffer.alloc(0);
  return typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
}

function sha256Hex(parts: readonly Buffer[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

function safeEqual(expected: Buffer, given: Buffer): boolean {
  if (expected.length !== given.length) return false;
  return timingSafeEqual(expected, given);
}

const HEX_64 = /^[0-9a-fA-F]{64}$/;
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

function compareHex(expectedHex: string, signature: string | undefined): VerifyResult {
  if (signature === undefined || signature === '') {
    return { ok: false, reason: 'missing_signature' };
  }
  if (!HEX_64.test(signature)) return { ok: false, reason: 'malformed_signature' };
  const ok = safeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(signature, 'hex'));
  return ok ? { ok: true, version: 'v1' } : { ok: false, reason: 'mismatch' };
}

export interface V1Input {
  readonly clientSecret: string;
  readonly rawBody: RawBody;
}

export function signV1(input: V1Input): string {
  return sha256Hex([Buffer.from(input.clientSecret, 'utf8'), bodyBuffer(input.rawBody)]);
}

export function verifyV1(
  input: V1Input & { readonly signature: string | undefined },
): VerifyResult {
  const result = compareHex(signV1(input), input.signature);
  return result.ok ? { ok: true, version: 'v1' } : result;
}

export interface V2Input {
  readonly clientSecret: string;
  readonly method: string;
  /** The full URI HubSpot called, e.g. `https://host/path?query` (used verbatim). */
  readonly uri: string;
  readonly rawBody?: RawBody;
}

export function signV2(input: V2Input): string {
  return sha256Hex([
    Buffer.from(input.clientSecret + input.method.toUpperCase() + input.uri, 'utf8'),
    bodyBuffer(input.rawBody),
  ]);
}

export function verifyV2(
  input: V2Input & { readonly signature: string | undefined },
): VerifyResult {
  const result = compareHex(signV2(input), input.signature);
  return result.ok ? { ok: true, version: 'v2' } : result;
}

export interface V3Input {
  readonly clientSecret: string;
  readonly method: string;
  /** The full URI HubSpot called, `https://` + host + path + query, as received. */
  readonly uri: string;
  readonly rawBody?: RawBody;
  /** `X-HubSpot-Request-Timestamp`: milliseconds since the epoch, 13 digits. */
  readonly timestamp: string | number;
}

export function signV3(input: V3Input): string {
  const hmac = createHmac('sha256', input.clientSecret);
  hmac.update(input.method.toUpperCase() + decodeV3Uri(input.uri), 'utf8');
  hmac.update(bodyBuffer(input.rawBody));
  hmac.update(String(input.timestamp), 'utf8');
  return hmac.digest('base64');
}

export interface V3VerifyInput extends Omit<V3Input, 'timestamp'> {
  readonly signature: string | undefined;
  readonly timestamp: string | undefined;
  /** Current time in ms (injected so callers and tests control the clock). */
  readonly now: number;
  readonly maxSkewMs?: number;
}

export function verifyV3(input: V3VerifyInput): VerifyResult {
  if (input.signature === undefined || input.signature === '') {
    return { ok: false, reason: 'missing_signature' };
  }
  if (input.timestamp === undefined || input.timestamp === '') {
    return { ok: false, reason: 'missing_timestamp' };
  }
  if (!/^\d{13}$/.test(input.timestamp)) return { ok: false, reason: 'malformed_timestamp' };
  const timestamp = Number(input.timestamp);
  const maxSkew = input.maxSkewMs ?? V3_MAX_SKEW_MS;
  if (input.now - timestamp > maxSkew) return { ok: false, reason: 'timestamp_expired' };
  if (timestamp - input.now > maxSkew) return { ok: false, reason: 'timestamp_in_future' };
  if (!BASE64_SHA256.test(input.signature)) return { ok: false, reason: 'malformed_signature' };
  // Compared as the canonical base64 text, not as decoded bytes: the last character before
  // `=` carries two padding bits that decoding ignores, so byte comparison would accept
  // four spellings of one signature (and a re-spelled replay would look like a new request).
  const expected = Buffer.from(signV3({ ...input, timestamp: input.timestamp }), 'latin1');
  const given = Buffer.from(input.signature, 'latin1');
  return safeEqual(expected, given)
    ? { ok: true, version: 'v3' }
    : { ok: false, reason: 'mismatch' };
}

/** Header names (lower-case, as Node exposes them). */
export const SIGNATURE_HEADERS = {
  signature: 'x-hubspot-signature',
  version: 'x-hubspot-signature-version',
  v3: 'x-hubspot-signature-v3',
  timestamp: 'x-hubspot-request-timestamp',
} as const;
