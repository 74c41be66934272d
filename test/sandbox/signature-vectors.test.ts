import { describe, expect, it } from 'vitest';

import {
  signV1,
  signV2,
  signV3,
  v1Source,
  v2Source,
  v3CanonicalUri,
  v3Source,
} from '../../sandbox/signing.ts';

// The sandbox's signing checked against vectors HubSpot itself published. Each block names
// where the numbers come from; none was computed with this code or with the app's.
const SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const URI = 'https://www.example.com/webhook_uri';

describe('v1: HubSpot "Validating the v1 request signature" page', () => {
  // https://developers.hubspot.com/docs/faq/v1-request-validation ("Example for a request
  // with a body"), also the v1 section of the legacy validating-requests page.
  const body =
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';

  it('builds the documented source string and hash', () => {
    expect(v1Source(SECRET, body)).toBe(`yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy${body}`);
    expect(signV1(SECRET, body)).toBe(
      '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de',
    );
  });
});

describe('v2: HubSpot "Validating the v2 request signature" page', () => {
  // https://developers.hubspot.com/docs/faq/v2-request-validation (GET example and
  // "Example for a request with a body").
  it('builds the documented GET source string and hash', () => {
    expect(v2Source(SECRET, 'GET', URI, '')).toBe(
      'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyyGEThttps://www.example.com/webhook_uri',
    );
    expect(signV2(SECRET, 'GET', URI, '')).toBe(
      'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e',
    );
  });

  it('builds the documented POST source string and hash', () => {
    const body = '{"example_field":"example_value"}';
    expect(v2Source(SECRET, 'POST', URI, body)).toBe(
      'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyyPOSThttps://www.example.com/webhook_uri{"example_field":"example_value"}',
    );
    expect(signV2(SECRET, 'POST', URI, body)).toBe(
      '9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900',
    );
  });
});

describe("HubSpot's own client library: hubspot-api-python tests/spec/utils/test_signature.py", () => {
  // HubSpot's docs print no v3 example, so the v3 vector comes from HubSpot's official Python
  // SDK test suite (github.com/HubSpot/hubspot-api-python). Note its body uses single quotes
  // and its timestamp is 15000000: the vector only pins the algorithm, not a realistic call.
  const body = "{'example_field':'example_value'}";

  it('v1', () => {
    expect(signV1(SECRET, body)).toBe(
      '69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750',
    );
  });

  it('v2 (POST)', () => {
    expect(signV2(SECRET, 'POST', URI, body)).toBe(
      '4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383',
    );
  });

  it('v3', () => {
    expect(v3Source('POST', URI, body, '15000000')).toBe(
      `POSThttps://www.example.com/webhook_uri${body}15000000`,
    );
    expect(signV3(SECRET, 'POST', URI, body, '15000000')).toBe(
      'HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=',
    );
  });
});

describe('v3 URI: the escapes the request-validation page says to decode', () => {
  // https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
  // ("Validate the v3 request signature"): decode %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A
  // %2C %3B, and nothing else.
  it('decodes each listed escape, in either hex case', () => {
    expect(v3CanonicalUri('%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B')).toBe(":/?@!$'()*,;");
    expect(v3CanonicalUri('%3a%2f%3f%2a%2c%3b')).toBe(':/?*,;');
  });

  it('keeps every other escape, stray percent signs and double encodings as sent', () => {
    expect(v3CanonicalUri('a%20b%26c%3Dd%2Be%25f%7E')).toBe('a%20b%26c%3Dd%2Be%25f%7E');
    expect(v3CanonicalUri('%253A')).toBe('%253A');
    expect(v3CanonicalUri('100%')).toBe('100%');
    expect(v3CanonicalUri('%4')).toBe('%4');
    expect(v3CanonicalUri('%%3A')).toBe('%:');
  });

  it('signs a hubspot.fetch URL over the decoded query, so @ and %40 sign alike', () => {
    const encoded = 'https://app.example.com/card?userEmail=rep%40acme.com&x=a%20b';
    const literal = 'https://app.example.com/card?userEmail=rep@acme.com&x=a%20b';
    expect(v3Source('GET', encoded, '', '1700000000000')).toBe(
      'GEThttps://app.example.com/card?userEmail=rep@acme.com&x=a%20b1700000000000',
    );
    expect(signV3(SECRET, 'GET', encoded, '', '1700000000000')).toBe(
      signV3(SECRET, 'GET', literal, '', '1700000000000'),
    );
    expect(signV3(SECRET, 'GET', encoded, '', '1700000000000')).not.toBe(
      signV3(SECRET, 'GET', literal.replace('a%20b', 'a b'), '', '1700000000000'),
    );
  });
});
