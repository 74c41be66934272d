import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { anonymousCallbackRefusals } from '../../server/src/hubspot/install/callback-refusals.ts';
import { MAX_PENDING_STATES } from '../../server/src/hubspot/install/install-state.ts';
import { INSTALL_RATE_LIMIT } from '../../server/src/hubspot/install/routes.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { AddressedBrowser, freshAddress } from './addressed-browser.ts';

/**
 * Issue 13 item 2: the install routes take no sign-in, so an outsider must not be able to
 * pile rows up through them. Floods from one address are answered 429 before they reach the
 * database, refused callbacks with no organization behind them stay out of the audit log,
 * and `oauth_states` is purged and capped. Counts only, no timings.
 */
const database = await createTestDatabase();
const env = await startHubSpotTestEnv({ db: database.db });
const BASE = '/api/v1/integrations/hubspot';

async function rows(table: 'audit_log' | 'oauth_states'): Promise<number> {
  const row = await database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function totalAnonymousRefusals(): number {
  return Object.values(anonymousCallbackRefusals()).reduce((a, b) => a + b, 0);
}

describe('install routes under a flood', () => {
  it('1,000 bogus callbacks from one address: at least 900 answered 429, no audit row, oauth_states unchanged', async () => {
    const attacker = freshAddress();
    const auditBefore = await rows('audit_log');
    const statesBefore = await rows('oauth_states');
    const refusalsBefore = totalAnonymousRefusals();
    const statuses = new Map<number, number>();
    let withoutRetryAfter = 0;
    let withoutEnvelope = 0;
    for (let i = 0; i < 1000; i++) {
      const response = await env.app.inject({
        method: 'GET',
        url: `${BASE}/callback?code=c${i}&state=bogus-${i}`,
        remoteAddress: attacker,
      });
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      if (response.statusCode === 429) {
        if (!/^\d+$/.test(String(response.headers['retry-after']))) withoutRetryAfter++;
        const body = response.json<{ error?: { code?: string } }>();
        if (body.error?.code !== 'rate_limited') withoutEnvelope++;
      }
    }
    expect(statuses.get(429) ?? 0).toBeGreaterThanOrEqual(900);
    expect(statuses.get(400)).toBe(INSTALL_RATE_LIMIT.max);
    expect(withoutRetryAfter).toBe(0);
    expect(withoutEnvelope).toBe(0);
    expect(await rows('audit_log')).toBe(auditBefore);
    expect(await rows('oauth_states')).toBe(statesBefore);
    // The refusals that got through are logged and counted instead.
    expect(totalAnonymousRefusals() - refusalsBefore).toBe(INSTALL_RATE_LIMIT.max);

    // Another address is not held back by the flood.
    const bystander = await env.app.inject({
      method: 'GET',
      url: `${BASE}/callback?code=c&state=bogus`,
      remoteAddress: freshAddress(),
    });
    expect(bystander.statusCode).toBe(400);
  });

  it('1,000 install starts from one address add no more states than the limit lets through', async () => {
    const attacker = freshAddress();
    const statesBefore = await rows('oauth_states');
    let limited = 0;
    for (let i = 0; i < 1000; i++) {
      const response = await env.app.inject({
        method: 'GET',
        url: `${BASE}/auth`,
        remoteAddress: attacker,
      });
      if (response.statusCode === 429) limited++;
      else expect(response.statusCode).toBe(302);
    }
    expect(limited).toBeGreaterThanOrEqual(900);
    expect((await rows('oauth_states')) - statesBefore).toBe(INSTALL_RATE_LIMIT.max);
  });

  it('the webhook intake and the workflow action are not rate limited', async () => {
    const sender = freshAddress();
    const statuses = new Set<number>();
    for (let i = 0; i < INSTALL_RATE_LIMIT.max * 2; i++) {
      for (const path of ['/events', '/webhook']) {
        const response = await env.app.inject({
          method: 'POST',
          url: `${BASE}${path}`,
          remoteAddress: sender,
          headers: { 'content-type': 'application/json' },
          payload: '[]',
        });
        statuses.add(response.statusCode);
      }
    }
    // Unsigned, so refused, but by the signature check, every time.
    expect(statuses.has(429)).toBe(false);
    expect([...statuses].every((s) => s >= 400 && s < 500)).toBe(true);
  });
});

describe('oauth_states stays bounded', () => {
  it('a new install deletes expired states, used or not', async () => {
    await sql`
      insert into oauth_states (state_hash, browser_binding_hash, expires_at, used_at)
      select 'expired-' || g, 'x', now() - interval '1 minute', case when g % 2 = 0 then now() end
      from generate_series(1, 500) g
    `.execute(database.db);
    const start = await new AddressedBrowser(env.app).get(`${BASE}/auth`);
    expect(start.statusCode).toBe(302);
    const expired = await sql<{ n: number }>`
      select count(*)::int as n from oauth_states where expires_at < now()
    `.execute(database.db);
    expect(expired.rows[0]?.n).toBe(0);
  });

  it(`with ${MAX_PENDING_STATES} installs pending, the next is refused (503, Retry-After) and adds no row`, async () => {
    const pending = await rows('oauth_states');
    await sql`
      insert into oauth_states (state_hash, browser_binding_hash, expires_at)
      select 'pending-' || g, 'x', now() + interval '10 minutes'
      from generate_series(1, ${MAX_PENDING_STATES - pending}) g
    `.execute(database.db);
    expect(await rows('oauth_states')).toBe(MAX_PENDING_STATES);
    const refused = await new AddressedBrowser(env.app).get(`${BASE}/auth`);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body).toContain('Too many HubSpot installs are in progress');
    expect(await rows('oauth_states')).toBe(MAX_PENDING_STATES);

    // Once they expire, installs start again.
    await sql`update oauth_states set expires_at = now() - interval '1 second'`.execute(
      database.db,
    );
    const again = await new AddressedBrowser(env.app).get(`${BASE}/auth`);
    expect(again.statusCode).toBe(302);
    expect(await rows('oauth_states')).toBe(1);
  });
});
