import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { createOrganization } from '../../server/src/core/organizations/organizations.ts';
import { createSignInLink } from '../../server/src/core/auth/sign-in-links.ts';
import { ARTIFACTS_DIR, launchBrowser } from '../helpers/browser.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';

const database = await createTestDatabase();
const env = await startHubSpotTestEnv({ db: database.db });
const browser = await launchBrowser();

describe('Connect HubSpot in a real browser', () => {
  it('signs in, connects through the consent page and lands on the integrations page connected', async () => {
    const organization = await createOrganization(database.db, 'Northwind Legal');
    const link = await createSignInLink(
      database.db,
      { publicBaseUrl: env.baseUrl },
      {
        organizationId: organization.id,
        email: 'counsel@northwind.test',
      },
    );
    const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
    await page.goto(link.url);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${env.baseUrl}/integrations`);
    await expect(page.getByTestId('hubspot-status').textContent()).resolves.toBe('Not connected');

    await page.getByTestId('connect-hubspot').click();
    await page.waitForURL((url) => url.toString().startsWith(env.sandbox.authorizeUrl));
    await expect(page.content()).resolves.toContain('LexiContract (test)');
    await page.locator('select[name="portal_id"]').selectOption('new');
    await page.getByRole('button', { name: 'Approve' }).click();

    await page.waitForURL(`${env.baseUrl}/integrations?notice=hubspot_connected`);
    await expect(page.getByTestId('hubspot-status').textContent()).resolves.toBe('Connected');
    await expect(page.getByTestId('hubspot-provisioning').textContent()).resolves.toContain('Done');
    await page.screenshot({
      path: path.join(ARTIFACTS_DIR, 'integrations-connected.png'),
      fullPage: true,
    });

    const row = await database.db
      .selectFrom('organization_integrations')
      .select(['status', 'organization_id'])
      .where('organization_id', '=', organization.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('connected');
    await page.close();
  });
});
