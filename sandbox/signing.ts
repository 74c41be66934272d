import { createHash, createHmac } from 'node:crypto';

/**
 * How HubSpot signs the requests it sends to an app, written from HubSpot's "Validating
 * requests" pages (developers.hubspot.com/docs/apps/developer-platform/build-apps/
 * authentication/request-validation, and the legacy v1/v2 FAQ pages), not from the app's
 * verifier. The sandbox only signs; verifying is the app's job.
 *
 * - v1 (webhook deliveries): hex SHA-256 of `clientSecret + body`.
 * - v2 (workflow-action calls): hex SHA-256 of `clientSecret + method + uri + body`.
 * - v3 (webhooks, workflow actions, `hubspot.fetch`): base64 HMAC-SHA-256, keyed with the
 *   client secret, of `method + uri + body + timestamp`, where `uri` has the twelve escapes
 *   the page lists decoded and the timestamp is `X-HubSpot-Request-Timestamp` (ms).
 */

/** Header names as HubSpot documents them (Node lower-cases them on receipt). */
export const SIGNATURE_HEADER = 'X-HubSpot-Signature';
export const SIGNATURE_VERSION_HEADER = 'X-HubSpot-Signature-Version';
export const SIGNATURE_V3_HEADER = 'X-HubSpot-Signature-v3';
export const REQUEST_TIMESTAMP_HEADER = 'X-HubSpot-Request-Timestamp';

/** The escapes the v3 instructions say to decode in the URI; every other one stays as sent. */
const V3_DECODED_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['3A', ':'],
  ['2F', '/'],
  ['3F', '?'],
  ['40', '@'],
  ['21', '!'],
  ['24', '$'],
  ['27', "'"],
  ['28', '('],
  ['29', ')'],
  ['2A', '*'],
  ['2C', ','],
  ['3B', ';'],
]);

/** One left-to-right pass: `%XX` in the table becomes its character, the rest is copied. */
export function v3CanonicalUri(uri: string): string {
  let out = '';
  let i = 0;
  while (i < uri.length) {
    if (uri.charAt(i) === '%' && i + 2 < uri.length) {
      const decoded = V3_DECODED_ESCAPES.get(uri.slice(i + 1, i + 3).toUpperCase());
      if (decoded !== undefined) {
        out += decoded;
        i += 3;
        continue;
      }
    }
    out += uri.charAt(i);
    i += 1;
  }
  return out;
}

/** v1 source string: `clientSecret + body`. */
export function v1Source(clientSecret: string, body: string): string {
  return clientSecret + body;
}

/** v2 source string: `clientSecret + method + uri + body` (URI exactly as requested). */
export function v2Source(clientSecret: string, method: string, uri: string, body: string): string {
  return clientSecret + method + uri + body;
}

/** v3 source string: `method + canonical uri + body + timestamp`. */
export function v3Source(method: string, uri: string, body: string, timestamp: string): string {
  return method + v3CanonicalUri(uri) + body + timestamp;
}

export function signV1(clientSecret: string, body: string): string {
  return createHash('sha256').update(v1Source(clientSecret, body), 'utf8').digest('hex');
}

export function signV2(clientSecret: string, method: string, uri: string, body: string): string {
  return createHash('sha256')
    .update(v2Source(clientSecret, method, uri, body), 'utf8')
    .digest('hex');
}

export function signV3(
  clientSecret: string,
  method: string,
  uri: string,
  body: string,
  timestamp: string,
): string {
  return createHmac('sha256', clientSecret)
    .update(v3Source(method, uri, body, timestamp), 'utf8')
    .digest('base64');
}
