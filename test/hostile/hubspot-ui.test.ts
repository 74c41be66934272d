import { describe, expect, it } from 'vitest';

import {
  assertMutationsRefused,
  deliverOriginal,
  startHostileFixture,
  type EndpointKey,
} from './hubspot-fixture.ts';
import {
  atFrozenTime,
  expectErrorEnvelope,
  fetchQuery,
  send,
  signedRequest,
  snapshot,
  type Endpoint,
} from './hubspot-requests.ts';

/**
 * Hostile input against the `hubspot.fetch` backends of the Deal card and the settings page:
 * v3-signed, the portal and user in the signed query HubSpot appends.
 */
const fixture = await startHostileFixture();
const { env, database, signer, endpoints } = fixture;
const KEYS = [
  'card',
  'cardSend',
  'settings',
  'settingsOptions',
  'retryFailed',
  'routingRules',
  'dryRun',
  'fieldMapping',
] as const;
const originals = new Map<EndpointKey, unknown>();
for (const key of KEYS) originals.set(key, (await deliverOriginal(fixture, endpoints[key])).json());

const RUNS: Record<(typeof KEYS)[number], number> = {
  card: 900,
  cardSend: 900,
  settings: 600,
  settingsOptions: 700,
  retryFailed: 600,
  routingRules: 400,
  dryRun: 600,
  fieldMapping: 300,
};

/** The endpoint as called for another portal (same user and app). */
function forPortal(endpoint: Endpoint, portalId: string): Endpoint {
  return {
    ...endpoint,
    query: { ...endpoint.query, ...fetchQuery({ portalId, appId: env.config.hubspot.appId }) },
  };
}

describe('Deal card and settings backends under hostile input', () => {
  it('signs over the same URL under inject as hubspot.fetch does over the wire', async () => {
    const dealId = endpoints.card.query?.dealId ?? '';
    const wire = await env.sandbox.control.signedCardFetch({
      portalId: Number(fixture.portalA),
      userId: 5101,
      userEmail: 'owner+hostile@example.com',
      method: 'GET',
      url: `${env.baseUrl}/api/v1/integrations/hubspot/card?dealId=${dealId}`,
    });
    expect(wire.status).toBe(200);
    const signedUrl = new URL(wire.url);
    expect(`${signedUrl.pathname}${signedUrl.search}`).toBe(
      signedRequest(signer, endpoints.card).url,
    );
    expect(wire.body).toEqual(originals.get('card'));
  });

  for (const key of KEYS) {
    it(`${endpoints[key].name}: ${RUNS[key]} mutations refused, none 5xx, no row written`, async () => {
      const tally = await assertMutationsRefused(fixture, endpoints[key], RUNS[key]);
      expect(tally.refused).toBeGreaterThan(RUNS[key] * 0.8);
    });
  }

  it('accepts timestamps 299,000 ms off and refuses 300,001 ms off, either direction', async () => {
    const now = Date.now();
    for (const key of KEYS) {
      const endpoint = endpoints[key];
      for (const [delta, expected] of [
        [-300_001, 401],
        [300_001, 401],
        [-299_000, 200],
        [299_000, 200],
      ] as const) {
        const before = await snapshot(database.db);
        const spec = signedRequest(signer, endpoint, { timestamp: now + delta });
        const response = await atFrozenTime(now, () => send(env.app, spec));
        expect(response.statusCode, `${endpoint.name} at ${delta} ms: ${response.body}`).toBe(
          expected,
        );
        if (expected === 200 && key !== 'retryFailed' && key !== 'settings')
          expect(response.json()).toEqual(originals.get(key));
        if (expected === 401) expectErrorEnvelope(response, `${endpoint.name} at ${delta} ms`);
        expect((await snapshot(database.db)).counts).toEqual(before.counts);
      }
    }
  });

  it("another portal's id, re-signed: a portal nobody connected gets no data and creates nothing", async () => {
    for (const key of KEYS) {
      const endpoint = forPortal(endpoints[key], fixture.strangerPortal);
      const before = await snapshot(database.db);
      const response = await send(env.app, signedRequest(signer, endpoint));
      const context = `${endpoint.name}: ${response.statusCode} ${response.body.slice(0, 300)}`;
      expect(response.statusCode, context).toBeLessThan(500);
      expect(response.body, context).not.toContain(fixture.dealNameA);
      expect(response.body, context).not.toContain('Alpha');
      if (key === 'card')
        expect(response.json(), context).toMatchObject({ state: 'needs_reconnect' });
      else if (key === 'settings')
        expect(response.json(), context).toMatchObject({
          connection: { state: 'not_connected', organizationName: null },
          health: null,
          options: null,
        });
      else {
        expect(response.statusCode, context).toBeGreaterThanOrEqual(400);
        expectErrorEnvelope(response, context);
      }
      expect((await snapshot(database.db)).digest, context).toBe(before.digest);
      // The same request under A's signature: refused.
      const swapped = {
        ...signedRequest(signer, endpoint),
        headers: signedRequest(signer, endpoints[key]).headers,
      };
      expect((await send(env.app, swapped)).statusCode, endpoint.name).toBe(401);
    }
  });

  it("a connected portal B asking for portal A's deal sees nothing of A and creates nothing", async () => {
    for (const key of ['card', 'cardSend'] as const) {
      const endpoint = forPortal(endpoints[key], fixture.portalB);
      const before = await snapshot(database.db);
      const response = await send(env.app, signedRequest(signer, endpoint));
      const context = `${endpoint.name}: ${response.statusCode} ${response.body.slice(0, 300)}`;
      expect(response.statusCode, context).toBeLessThan(500);
      expect(response.statusCode, context).toBeGreaterThanOrEqual(400);
      expect(response.body, context).not.toContain(fixture.dealNameA);
      expect((await snapshot(database.db)).counts, context).toEqual(before.counts);
    }
  });

  it('a body sent with a signed GET, or a non-JSON body, is refused: it is not what was signed', async () => {
    for (const key of ['card', 'settings', 'retryFailed'] as const) {
      const before = await snapshot(database.db);
      const spec = signedRequest(signer, endpoints[key]);
      for (const [type, body] of [
        ['application/json', '{"portalId":"1"}'],
        ['text/plain', 'portalId=1'],
        ['application/x-www-form-urlencoded', 'portalId=1'],
      ] as const) {
        const response = await send(env.app, {
          ...spec,
          headers: { ...spec.headers, 'content-type': type },
          body: Buffer.from(body),
        });
        expect(response.statusCode, `${key} ${type}`).toBe(401);
      }
      expect((await snapshot(database.db)).digest).toBe(before.digest);
    }
  });

  it('refuses a valid v3 signature spelled in non-canonical base64 (same bytes, other text)', async () => {
    const spec = signedRequest(signer, endpoints.card);
    const signature = spec.headers['x-hubspot-signature-v3'] ?? '';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = alphabet.indexOf(signature.charAt(42));
    // The low two bits of the 43rd character are padding: flipping them keeps the bytes.
    const respelled = `${signature.slice(0, 42)}${alphabet.charAt(last ^ 1)}=`;
    expect(Buffer.from(respelled, 'base64')).toEqual(Buffer.from(signature, 'base64'));
    const response = await send(env.app, {
      ...spec,
      headers: { ...spec.headers, 'x-hubspot-signature-v3': respelled },
    });
    expect(response.statusCode).toBe(401);
  });
});
