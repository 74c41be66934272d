import { describe, expect, it } from 'vitest';

import { safeNextPath } from '../../server/src/core/auth/next-path.ts';
import { createSignInLink } from '../../server/src/core/auth/sign-in-links.ts';
import { createOrganization } from '../../server/src/core/organizations/organizations.ts';
import { buildTestApp } from '../helpers/test-app.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { WebClient } from '../helpers/web-client.ts';

const database = await createTestDatabase();
const app = await buildTestApp({ db: database.db });

const OTHER_ORIGINS = [
  '//evil.test/contracts',
  '/\\evil.test',
  'https://evil.test/',
  'javascript:alert(1)',
  '/%2F%2Fevil.test',
  '/contracts/../../evil',
  '/sign-in?next=//evil.test',
  '/api/v1/integrations/hubspot/auth',
  'contracts',
  '',
  `/${'a'.repeat(400)}`,
];

describe('where sign-in sends you afterwards (`next`)', () => {
  it('accepts only same-origin page paths', () => {
    expect(safeNextPath('/contracts/0b6f1c1e-8f3a-4c55-9d7e-2a1b3c4d5e6f')).toBe(
      '/contracts/0b6f1c1e-8f3a-4c55-9d7e-2a1b3c4d5e6f',
    );
    expect(safeNextPath('/audit-log?action=api_key.created&before=20')).toBe(
      '/audit-log?action=api_key.created&before=20',
    );
    for (const next of OTHER_ORIGINS) expect(safeNextPath(next), next).toBeNull();
  });

  it('never redirects a signed-in visitor off the site, and the HubSpot button carries only a safe path', async () => {
    const org = await createOrganization(database.db, 'Redirect Co');
    const link = await createSignInLink(
      database.db,
      { publicBaseUrl: 'https://lexicontract.test' },
      { organizationId: org.id, email: 'legal@redirect.test' },
    );
    const visitor = new WebClient(app);
    for (const next of OTHER_ORIGINS) {
      const page = await visitor.get(`/sign-in?next=${encodeURIComponent(next)}`);
      expect(page.statusCode, next).toBe(200);
      const button =
        /data-testid="sign-in-hubspot"|href="([^"]*)"[^>]*data-testid="sign-in-hubspot"/.exec(
          page.body,
        );
      expect(button, next).not.toBeNull();
      expect(page.body, next).not.toContain('evil.test');
    }
    const signedIn = new WebClient(app);
    await signedIn.postForm('/sign-in/link', {
      token: new URL(link.url).searchParams.get('token') ?? '',
    });
    for (const next of OTHER_ORIGINS) {
      const response = await signedIn.get(`/sign-in?next=${encodeURIComponent(next)}`);
      expect(response.headers.location ?? '', next).not.toContain('evil');
    }
    const back = await signedIn.get('/sign-in?next=%2Fcontracts');
    expect(back.statusCode).toBe(302);
    expect(back.headers.location).toBe('/contracts');
  });

  it('a protected page sends a signed-out visitor to sign in with the way back', async () => {
    const response = await new WebClient(app).get('/audit-log?action=web.signed_in');
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(
      `/sign-in?next=${encodeURIComponent('/audit-log?action=web.signed_in')}`,
    );
  });
});
