import { describe, expect, it } from 'vitest';

import {
  decodeV3Uri,
  signV1,
  signV2,
  signV3,
  verifyV1,
  verifyV2,
  verifyV3,
} from '../../../server/src/hubspot/signature/index.ts';

// HubSpot's documented example inputs (hubspot-platform.md §5; the v1 and v2 hashes are the
// ones printed on HubSpot's v1/v2 request-validation pages).
const SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const URI = 'https://www.example.com/webhook_uri';
const POST_BODY = '{"example_field":"example_value"}';
const V1_BODY =
  '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
const V3_TIMESTAMP = '1700000000000';

describe('v1', () => {
  it('matches the documented vector and verifies it', () => {
    const expected = '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de';
    expect(signV1({ clientSecret: SECRET, rawBody: V1_BODY })).toBe(expected);
    expect(
      verifyV1({ clientSecret: SECRET, rawBody: Buffer.from(V1_BODY), signature: expected }),
    ).toEqual({
      ok: true,
      version: 'v1',
    });
    expect(
      verifyV1({
        clientSecret: SECRET,
        rawBody: Buffer.from(V1_BODY),
        signature: expected.toUpperCase(),
      }),
    ).toEqual({ ok: true, version: 'v1' });
  });

  it('rejects a changed body, a wrong secret and malformed signatures without throwing', () => {
    const signature = signV1({ clientSecret: SECRET, rawBody: V1_BODY });
    expect(verifyV1({ clientSecret: SECRET, rawBody: `${V1_BODY} `, signature })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyV1({ clientSecret: 'other', rawBody: V1_BODY, signature })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyV1({ clientSecret: SECRET, rawBody: V1_BODY, signature: undefined })).toEqual({
      ok: false,
      reason: 'missing_signature',
    });
    for (const bad of ['zz', signature.slice(1), `${signature}00`, '💥'.repeat(32)]) {
      expect(verifyV1({ clientSecret: SECRET, rawBody: V1_BODY, signature: bad })).toEqual({
        ok: false,
        reason: 'malformed_signature',
      });
    }
  });
});

describe('v2', () => {
  it('matches the documented GET and POST vectors', () => {
    const get = 'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e';
    const post = '9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900';
    expect(signV2({ clientSecret: SECRET, method: 'GET', uri: URI })).toBe(get);
    expect(signV2({ clientSecret: SECRET, method: 'POST', uri: URI, rawBody: POST_BODY })).toBe(
      post,
    );
    expect(
      verifyV2({ clientSecret: SECRET, method: 'GET', uri: URI, rawBody: '', signature: get }),
    ).toEqual({
      ok: true,
      version: 'v2',
    });
    expect(
      verifyV2({
        clientSecret: SECRET,
        method: 'POST',
        uri: URI,
        rawBody: Buffer.from(POST_BODY),
        signature: post,
      }),
    ).toEqual({ ok: true, version: 'v2' });
  });

  it('binds method, URI and body', () => {
    const post = signV2({ clientSecret: SECRET, method: 'POST', uri: URI, rawBody: POST_BODY });
    const check = (method: string, uri: string, rawBody: string) =>
      verifyV2({ clientSecret: SECRET, method, uri, rawBody, signature: post });
    expect(check('PUT', URI, POST_BODY)).toEqual({ ok: false, reason: 'mismatch' });
    expect(check('POST', `${URI}?a=1`, POST_BODY)).toEqual({ ok: false, reason: 'mismatch' });
    expect(check('POST', URI, '{}')).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('v3', () => {
  const now = Number(V3_TIMESTAMP);
  // Self-computed (hubspot-platform.md §5.1): HubSpot's docs print no v3 example.
  const vector = 'rQEKkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o=';

  it("matches the v3 vector of HubSpot's own Python SDK (tests/spec/utils/test_signature.py)", () => {
    expect(
      signV3({
        clientSecret: SECRET,
        method: 'POST',
        uri: URI,
        rawBody: "{'example_field':'example_value'}",
        timestamp: 15000000,
      }),
    ).toBe('HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=');
  });

  it('matches the self-computed vector and verifies it', () => {
    expect(
      signV3({
        clientSecret: SECRET,
        method: 'POST',
        uri: URI,
        rawBody: POST_BODY,
        timestamp: V3_TIMESTAMP,
      }),
    ).toBe(vector);
    expect(
      verifyV3({
        clientSecret: SECRET,
        method: 'POST',
        uri: URI,
        rawBody: Buffer.from(POST_BODY),
        timestamp: V3_TIMESTAMP,
        signature: vector,
        now,
      }),
    ).toEqual({ ok: true, version: 'v3' });
  });

  it('accepts exactly 5 minutes of skew in both directions and nothing beyond', () => {
    const at = (skew: number) => {
      const timestamp = String(now + skew);
      const signature = signV3({
        clientSecret: SECRET,
        method: 'POST',
        uri: URI,
        rawBody: POST_BODY,
        timestamp,
      });
      return verifyV3({
        clientSecret: SECRET,
        method: 'POST',
        uri: URI,
        rawBody: POST_BODY,
        timestamp,
        signature,
        now,
      });
    };
    expect(at(-300_000)).toEqual({ ok: true, version: 'v3' });
    expect(at(300_000)).toEqual({ ok: true, version: 'v3' });
    expect(at(-300_001)).toEqual({ ok: false, reason: 'timestamp_expired' });
    expect(at(300_001)).toEqual({ ok: false, reason: 'timestamp_in_future' });
  });

  it('rejects missing or malformed timestamps and signatures without throwing', () => {
    const base = { clientSecret: SECRET, method: 'POST', uri: URI, rawBody: POST_BODY, now };
    expect(verifyV3({ ...base, timestamp: V3_TIMESTAMP, signature: undefined })).toEqual({
      ok: false,
      reason: 'missing_signature',
    });
    expect(verifyV3({ ...base, timestamp: undefined, signature: vector })).toEqual({
      ok: false,
      reason: 'missing_timestamp',
    });
    for (const timestamp of [
      '1700000000',
      '17000000000000',
      'abcdefghijklm',
      '1.7e12',
      ' 1700000000000',
    ]) {
      expect(verifyV3({ ...base, timestamp, signature: vector })).toEqual({
        ok: false,
        reason: 'malformed_timestamp',
      });
    }
    for (const signature of ['abc', `${vector}=`, vector.replace('+', '-'), '∆'.repeat(44)]) {
      expect(verifyV3({ ...base, timestamp: V3_TIMESTAMP, signature })).toEqual({
        ok: false,
        reason: 'malformed_signature',
      });
    }
    expect(
      verifyV3({ ...base, rawBody: '{}', timestamp: V3_TIMESTAMP, signature: vector }),
    ).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('decodes exactly the 12 listed escapes, in either case, and nothing else', () => {
    expect(decodeV3Uri('%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B')).toBe(":/?@!$'()*,;");
    expect(decodeV3Uri('%3a%2f%3f%40%2a%2c%3b')).toBe(':/?@*,;');
    expect(decodeV3Uri('a%20b%26c%3Dd%2Be%25f%7E')).toBe('a%20b%26c%3Dd%2Be%25f%7E');
    expect(decodeV3Uri('%253A')).toBe('%253A');
  });

  it('signs over the decoded URI so an encoded and a literal URI verify alike', () => {
    const encoded = 'https://app.example.com/card?userEmail=rep%40acme.com&x=a%20b';
    const literal = 'https://app.example.com/card?userEmail=rep@acme.com&x=a%20b';
    const timestamp = V3_TIMESTAMP;
    const signature = signV3({ clientSecret: SECRET, method: 'GET', uri: encoded, timestamp });
    expect(
      verifyV3({ clientSecret: SECRET, method: 'GET', uri: literal, timestamp, signature, now }),
    ).toEqual({
      ok: true,
      version: 'v3',
    });
    // %20 is not one of the 12: decoding it would change the signed string.
    const spaced = 'https://app.example.com/card?userEmail=rep@acme.com&x=a b';
    expect(
      verifyV3({ clientSecret: SECRET, method: 'GET', uri: spaced, timestamp, signature, now }),
    ).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });
});
