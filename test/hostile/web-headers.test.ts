import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';

import { createSignInLink } from '../../server/src/core/auth/sign-in-links.ts';
import { createContract } from '../../server/src/core/contracts/contracts-service.ts';
import { createOrganization } from '../../server/src/core/organizations/organizations.ts';
import { buildTestApp } from '../helpers/test-app.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { WebClient } from '../helpers/web-client.ts';

/**
 * Every HTML page (issue 13, finding 3): a strict CSP that forbids framing and inline
 * script or style, nosniff, no referrer, `no-store` when signed in, and markup with no
 * inline style or handler left for the CSP to block.
 */
const database = await createTestDatabase();
const app = await buildTestApp({ db: database.db });

const org = await createOrganization(database.db, 'Framed');
const link = await createSignInLink(
  database.db,
  { publicBaseUrl: 'https://lexicontract.test' },
  { organizationId: org.id, email: 'admin@framed.test' },
);
const token = new URL(link.url).searchParams.get('token') ?? '';
const contract = await createContract(database.db, {
  organizationId: org.id,
  title: 'Framed MSA',
  externalSource: 'hubspot',
  externalId: '9001',
  externalAccountId: '777001',
  createdBySource: 'hubspot_workflow',
  actor: 'hubspot:portal:777001',
  sourceSnapshot: { dealname: 'Framed deal' },
});

function expectLockedDown(response: LightMyRequestResponse): void {
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  const csp = String(response.headers['content-security-policy']);
  const directives = new Map(
    csp.split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values.join(' ')] as const;
    }),
  );
  expect(directives.get('default-src')).toBe("'self'");
  expect(directives.get('frame-ancestors')).toBe("'none'");
  expect(directives.get('style-src')).toBe("'self'");
  expect(directives.get('script-src-attr')).toBe("'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['x-frame-options']).toBe('DENY');
  expect(response.headers['referrer-policy']).toBe('same-origin');
  expect(response.body).toContain('<meta name="referrer" content="same-origin" />');
  const body = response.body.toLowerCase();
  for (const inline of ['style=', '<style', 'onsubmit=', 'onclick=']) {
    expect(body, `inline ${inline}`).not.toContain(inline);
  }
  // Scripts only as static files of ours, never inline.
  const scripts = body.split('<script').slice(1);
  for (const script of scripts)
    expect(script).toMatch(/^ src="\/assets\/[a-z-]+\.js" defer><\/script>/);
  expect(body).toContain('<link rel="stylesheet" href="/assets/app.css"');
}

describe('web page headers and markup', () => {
  it('locks down the pages shown before signing in, error page included', async () => {
    const visitor = new WebClient(app);
    const signIn = await visitor.get('/sign-in');
    expect(signIn.statusCode).toBe(200);
    expectLockedDown(signIn);
    const landing = await visitor.get(`/sign-in/link?token=${encodeURIComponent(token)}`);
    expect(landing.statusCode).toBe(200);
    expectLockedDown(landing);
    const invalid = await visitor.postForm('/sign-in/link', { token: 'not-a-valid-token' });
    expect(invalid.statusCode).toBe(400);
    expectLockedDown(invalid);
  });

  it('locks down every signed-in page and keeps it out of caches', async () => {
    const client = new WebClient(app);
    expect((await client.postForm('/sign-in/link', { token })).statusCode).toBe(302);
    for (const url of [
      '/integrations',
      '/contracts',
      `/contracts/${contract.id}`,
      '/api-keys',
      '/audit-log',
    ]) {
      const response = await client.get(url);
      expect(response.statusCode, url).toBe(200);
      expectLockedDown(response);
      expect(response.headers['cache-control'], url).toBe('no-store');
    }
  });

  it('serves the stylesheet from our origin, with the classes pages use', async () => {
    const css = await new WebClient(app).get('/assets/app.css');
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.headers['x-content-type-options']).toBe('nosniff');
    for (const selector of ['.card.narrow', '.card.signin', '.mb-16', '.mt-20', '.button.danger']) {
      expect(css.body).toContain(selector);
    }
    const missing = await new WebClient(app).get('/assets/../app.ts');
    expect(missing.statusCode).toBe(404);
  });
});
