import { randomUUID } from 'node:crypto';

import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';

import { createSignInLink } from '../../server/src/core/auth/sign-in-links.ts';
import { createApiKey } from '../../server/src/core/organizations/api-keys.ts';
import { createOrganization } from '../../server/src/core/organizations/organizations.ts';
import { buildTestApp } from '../helpers/test-app.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { csrfFrom, WebClient } from '../helpers/web-client.ts';

/**
 * Cross-site and token-less form posts against the web pages (issue 13, finding 4): the
 * web scope checks every unsafe method, sign-in included, so a page on another site can
 * neither sign a victim in to the attacker's organization nor act in the victim's.
 */
const database = await createTestDatabase();
const app = await buildTestApp({ db: database.db });
const PUBLIC_ORIGIN = 'https://lexicontract.test';

async function signInToken(orgName: string) {
  const org = await createOrganization(database.db, orgName);
  const link = await createSignInLink(
    database.db,
    { publicBaseUrl: PUBLIC_ORIGIN },
    { organizationId: org.id, email: `admin@${orgName.toLowerCase()}.test` },
  );
  return { org, token: new URL(link.url).searchParams.get('token') ?? '' };
}

async function signedIn(orgName: string) {
  const { org, token } = await signInToken(orgName);
  const client = new WebClient(app);
  const posted = await client.postForm('/sign-in/link', { token });
  expect(posted.statusCode).toBe(302);
  return { client, org };
}

/** A form post as a browser sends it, with the headers a test chooses. */
async function post(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string>,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    // A browser's form post: it asks for HTML, so refusals come back as pages.
    headers: {
      accept: 'text/html',
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    payload: new URLSearchParams(form).toString(),
  });
}

function cookieOf(client: WebClient): string {
  return [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

async function activeKeys(organizationId: string): Promise<number> {
  const rows = await database.db
    .selectFrom('api_keys')
    .select('id')
    .where('organization_id', '=', organizationId)
    .where('revoked_at', 'is', null)
    .execute();
  return rows.length;
}

describe('web forms under cross-site requests', () => {
  it.each([
    ['a foreign Origin', { origin: 'https://evil.test' }],
    ['Origin null (a sandboxed frame)', { origin: 'null' }],
    ['a same-site but other-origin page', { origin: 'https://lexicontract.test:8443' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
  ])('refuses a sign-in link posted from %s, and the link stays usable', async (_why, headers) => {
    const { token } = await signInToken(`Mallory${randomUUID().slice(0, 8)}`);
    const refused = await post('/sign-in/link', { token }, headers);
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('data-error-code="cross_site_request"');
    expect(refused.cookies.find((c) => c.name === 'lxc_session')).toBeUndefined();

    const own = await post(
      '/sign-in/link',
      { token },
      { origin: PUBLIC_ORIGIN, 'sec-fetch-site': 'same-origin' },
    );
    expect(own.statusCode).toBe(302);
    expect(own.headers.location).toBe('/integrations');
  });

  it('refuses a cross-site post that carries a valid session and token', async () => {
    const { client, org } = await signedIn('Victim');
    const csrf = csrfFrom((await client.get('/api-keys')).body);
    const refused = await post(
      '/api-keys',
      { name: 'planted', _csrf: csrf },
      { cookie: cookieOf(client), origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
    );
    expect(refused.statusCode).toBe(403);
    expect(await activeKeys(org.id)).toBe(0);
  });

  it('refuses every web form posted without the session token, and changes nothing', async () => {
    const { client, org } = await signedIn('Initrode');
    const key = await createApiKey(database.db, org.id, 'ci');
    const someId = randomUUID();
    const forms = [
      '/sign-out',
      '/api-keys',
      `/api-keys/${key.id}/revoke`,
      `/contracts/${someId}/status`,
      `/contracts/${someId}/sync`,
      '/integrations/hubspot/retry-failed',
    ];
    for (const url of forms) {
      const tokenless: Record<string, string>[] = [{}, { _csrf: 'forged' }, { _csrf: '' }];
      for (const form of tokenless) {
        const response = await post(
          url,
          { name: 'planted', negotiation_status: 'approved', expected_version: '1', ...form },
          { cookie: cookieOf(client), origin: PUBLIC_ORIGIN },
        );
        expect(response.statusCode, `${url} ${JSON.stringify(form)}`).toBe(401);
        expect(response.body).toContain('data-error-code="csrf_check_failed"');
      }
    }
    expect(await activeKeys(org.id)).toBe(1);
    // Still signed in: sign-out was refused too.
    expect((await client.get('/api-keys')).statusCode).toBe(200);
  });

  it('asks a signed-in visitor for the token on the sign-in form too', async () => {
    const { client } = await signedIn('Hooli');
    const { token } = await signInToken('Piedpiper');
    const withoutToken = await post('/sign-in/link', { token }, { cookie: cookieOf(client) });
    expect(withoutToken.statusCode).toBe(401);

    const landing = await client.get(`/sign-in/link?token=${encodeURIComponent(token)}`);
    const switched = await client.postForm('/sign-in/link', {
      token,
      _csrf: csrfFrom(landing.body),
    });
    expect(switched.statusCode).toBe(302);
    expect((await client.get('/api-keys')).body).toContain('Piedpiper');
  });
});

describe('API key revocation', () => {
  it('says not found for an unknown or foreign key and revokes nothing', async () => {
    const owner = await signedIn('Umbrella');
    const ownerKey = await createApiKey(database.db, owner.org.id, 'prod');
    const intruder = await signedIn('Tyrell');
    const csrf = csrfFrom((await intruder.client.get('/api-keys')).body);

    for (const id of [ownerKey.id, randomUUID()]) {
      const response = await intruder.client.postForm(`/api-keys/${id}/revoke`, { _csrf: csrf });
      expect(response.statusCode).toBe(404);
      expect(response.body).toContain('No such API key in this organization');
      expect(response.body).not.toContain('The API key was revoked');
    }
    expect(await activeKeys(owner.org.id)).toBe(1);

    const ownCsrf = csrfFrom((await owner.client.get('/api-keys')).body);
    const revoked = await owner.client.postForm(`/api-keys/${ownerKey.id}/revoke`, {
      _csrf: ownCsrf,
    });
    expect(revoked.headers.location).toBe('/api-keys?notice=api_key_revoked');
    expect(await activeKeys(owner.org.id)).toBe(0);
    const again = await owner.client.postForm(`/api-keys/${ownerKey.id}/revoke`, {
      _csrf: ownCsrf,
    });
    expect(again.headers.location).toBe('/api-keys?notice=api_key_already_revoked');
  });
});
