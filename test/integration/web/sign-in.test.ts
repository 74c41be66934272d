import { describe, expect, it } from 'vitest';

import { createOrganization } from '../../../server/src/core/organizations/organizations.ts';
import { createSignInLink } from '../../../server/src/core/auth/sign-in-links.ts';
import { buildTestApp } from '../../helpers/test-app.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { csrfFrom, WebClient } from '../../helpers/web-client.ts';

const database = await createTestDatabase();
const app = await buildTestApp({ db: database.db });

async function signedInClient(orgName: string) {
  const org = await createOrganization(database.db, orgName);
  const link = await createSignInLink(
    database.db,
    { publicBaseUrl: 'https://lexicontract.test' },
    {
      organizationId: org.id,
      email: `admin@${orgName.toLowerCase()}.test`,
    },
  );
  const client = new WebClient(app);
  const token = new URL(link.url).searchParams.get('token') ?? '';
  const landing = await client.get(`/sign-in/link?token=${encodeURIComponent(token)}`);
  expect(landing.statusCode).toBe(200);
  const posted = await client.postForm('/sign-in/link', { token });
  expect(posted.statusCode).toBe(302);
  expect(posted.headers.location).toBe('/integrations');
  return { client, org, token };
}

describe('web sign-in', () => {
  it('signs in once with a one-time link and sets a hardened session cookie', async () => {
    const org = await createOrganization(database.db, 'Acme');
    const link = await createSignInLink(
      database.db,
      { publicBaseUrl: 'https://lexicontract.test' },
      { organizationId: org.id, email: 'Ann@Acme.test' },
    );
    const token = new URL(link.url).searchParams.get('token') ?? '';
    const client = new WebClient(app);
    const first = await client.postForm('/sign-in/link', { token });
    expect(first.statusCode).toBe(302);
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Secure');

    const again = await new WebClient(app).postForm('/sign-in/link', { token });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('invalid, expired or already used');

    const page = await client.get('/api-keys');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Acme');
    expect(page.body).toContain('ann@acme.test');
  });

  it('sends visitors without a session to the sign-in page', async () => {
    const response = await new WebClient(app).get('/api-keys');
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/sign-in');
  });

  it('refuses a form post without the session CSRF token and changes nothing', async () => {
    const { client, org } = await signedInClient('Globex');
    const refused = await client.postForm('/api-keys', { name: 'ci', _csrf: 'forged' });
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toContain('data-error-code="csrf_check_failed"');
    const keys = await database.db
      .selectFrom('api_keys')
      .select('id')
      .where('organization_id', '=', org.id)
      .execute();
    expect(keys).toHaveLength(0);
  });

  it('creates an API key by POST, redirect, GET: shows it once with a curl example, and a reload mints nothing', async () => {
    const { client, org } = await signedInClient('Initech');
    const csrf = csrfFrom((await client.get('/api-keys')).body);
    const created = await client.postForm('/api-keys', { name: 'reporting', _csrf: csrf });
    expect(created.statusCode).toBe(303);
    expect(created.headers.location).toBe('/api-keys');
    // The key travels sealed: the cookie does not carry it in clear.
    const shown = await client.get('/api-keys');
    const key = /data-testid="new-api-key">([^<]+)</.exec(shown.body)?.[1] ?? '';
    expect(key).toMatch(/^lxc_/);
    expect(created.headers['set-cookie']?.toString()).not.toContain(key);
    expect(shown.body).toContain(`Authorization: Bearer ${key}`);
    expect(shown.body).toContain('data-copy="new-api-key"');
    const listing = await client.get('/api-keys');
    expect(listing.body).not.toContain(key);
    expect(listing.body).toContain(key.slice(0, 10));
    const keys = await database.db
      .selectFrom('api_keys')
      .select('id')
      .where('organization_id', '=', org.id)
      .execute();
    expect(keys).toHaveLength(1);
    const audit = await database.db
      .selectFrom('audit_log')
      .select('action')
      .where('organization_id', '=', org.id)
      .execute();
    expect(audit.map((a) => a.action)).toContain('api_key.created');
  });

  it('signs out: the old cookie no longer opens pages', async () => {
    const { client } = await signedInClient('Umbrella');
    const csrf = csrfFrom((await client.get('/api-keys')).body);
    const saved = new Map(client.cookies);
    const out = await client.postForm('/sign-out', { _csrf: csrf });
    expect(out.statusCode).toBe(302);
    const replay = new WebClient(app);
    for (const [k, v] of saved) replay.cookies.set(k, v);
    const response = await replay.get('/api-keys');
    expect(response.statusCode).toBe(302);
  });
});
