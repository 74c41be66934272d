import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { AddressedBrowser } from './addressed-browser.ts';
import { snapshot } from './hubspot-requests.ts';

/**
 * The OAuth `GET /callback` (not signed: protected by a single-use, browser-bound state and
 * PKCE) under mutated state, code and browser cookie: never an install, never a successful
 * token exchange, never 5xx. Each install comes from its own client address, as separate
 * people's would: the install routes are rate limited per address.
 */
const database = await createTestDatabase();
const env = await startHubSpotTestEnv({ db: database.db });
const { sandbox } = env;
const CALLBACK = '/api/v1/integrations/hubspot/callback';
const RUNS = 400;

function successfulExchanges(): number {
  return sandbox.control
    .tokenEndpointCalls()
    .filter((c) => c.grantType === 'authorization_code' && c.status === 200).length;
}

/** A fresh install as far as HubSpot's redirect back: the browser, state and code. */
async function pendingInstall(portalId: number) {
  const client = new AddressedBrowser(env.app);
  const started = await client.get('/api/v1/integrations/hubspot/auth');
  const { redirectUrl } = sandbox.control.approveInstall(String(started.headers.location), {
    portalId,
  });
  const params = new URL(redirectUrl).searchParams;
  return { client, state: params.get('state') ?? '', code: params.get('code') ?? '' };
}

function flip(text: string, bit: number): string {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length === 0) return 'A';
  const index = Math.floor(bit / 8) % bytes.length;
  bytes[index] = (bytes[index] ?? 0) ^ (1 << (bit % 8));
  const out = bytes.toString('latin1');
  return out === text ? `${text}A` : out;
}

type Part = 'state' | 'code' | 'cookie' | 'error' | 'duplicate' | 'long' | 'used' | 'swap';

describe('OAuth callback under hostile input', () => {
  it(`${RUNS} mutated callbacks: no install, no token exchange, no 5xx`, async () => {
    const portal = sandbox.control.createPortal({ name: 'Target' }).portalId;
    // One completed install, whose callback is replayed by the "used" mutation.
    const done = await pendingInstall(portal);
    const completed = await done.client.get(
      `${CALLBACK}?code=${encodeURIComponent(done.code)}&state=${encodeURIComponent(done.state)}`,
    );
    expect(completed.statusCode).toBe(302);
    expect(completed.headers.location).toBe('/integrations?notice=hubspot_connected');
    const exchanges = successfulExchanges();
    let last = await snapshot(database.db);

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Part>(
          'state',
          'code',
          'cookie',
          'error',
          'duplicate',
          'long',
          'used',
          'swap',
        ),
        fc.nat({ max: 4000 }),
        async (part, bit) => {
          const install = await pendingInstall(portal);
          let { state, code } = install;
          let client = install.client;
          let extra = '';
          if (part === 'state') state = flip(state, bit);
          if (part === 'code') code = flip(code, bit);
          if (part === 'cookie') {
            const [name, value] = [...client.cookies][0] ?? ['lxc_oauth', ''];
            if (bit % 2 === 0) client.cookies.set(name, flip(value, bit));
            else client = new AddressedBrowser(env.app);
          }
          if (part === 'error') extra = '&error=access_denied&error_description=no';
          if (part === 'duplicate') extra = `&state=${encodeURIComponent(state)}`;
          if (part === 'long') state = state.repeat(20);
          if (part === 'used') {
            state = done.state;
            code = done.code;
            client = done.client.elsewhere();
          }
          if (part === 'swap') {
            // Another pending install's state and code, arriving in this browser.
            const other = await pendingInstall(portal);
            state = other.state;
            code = other.code;
          }
          const url = `${CALLBACK}?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}${extra}`;
          const response = await client.get(url);
          const context = `${part} ${bit}: ${response.statusCode} ${String(response.headers.location)} ${response.body.slice(0, 200)}`;
          expect(response.statusCode, context).toBeLessThan(500);
          if (response.statusCode === 302) {
            expect(String(response.headers.location), context).toMatch(
              /notice=hubspot_(exchange_failed|access_denied)$/,
            );
          } else {
            expect(response.statusCode, context).toBe(400);
          }
          expect(response.body, context).not.toContain(env.config.hubspot.clientSecret);
          expect(successfulExchanges(), context).toBe(exchanges);
          const now = await snapshot(database.db);
          expect(now.digest, context).toBe(last.digest);
          last = now;
        },
      ),
      { numRuns: RUNS },
    );
  });
});
