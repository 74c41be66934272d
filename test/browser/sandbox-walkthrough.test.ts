import path from 'node:path';

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

import { demoPortalOf } from '../../sandbox/index.ts';
import { ARTIFACTS_DIR, launchBrowser } from '../helpers/browser.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';

const database = await createTestDatabase();
const env = await startHubSpotTestEnv({ db: database.db, sandbox: { seedDemoPortal: true } });
await env.startWorkers();
const browser = await launchBrowser();

/** Reloads the page until the text appears (the sandbox deal page is server-rendered). */
async function reloadUntil(page: Page, testId: string, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await page.getByTestId(testId).textContent();
    if (value?.includes(text)) return;
    if (Date.now() > deadline)
      throw new Error(`${testId} never showed ${text} (last: ${value ?? 'none'})`);
    await page.waitForTimeout(300);
    await page.reload();
  }
}

describe('sandbox mode walk-through in a real browser', () => {
  it('installs from "Sign in with HubSpot", sends a deal from its record, and the deal follows status changes', async () => {
    const demo = demoPortalOf(env.sandbox);
    if (!demo) throw new Error('no demo portal');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

    // Marketplace-style install: no LexiContract session, the installer is signed in.
    await page.goto(`${env.baseUrl}/sign-in`);
    await page.getByRole('link', { name: 'Sign in with HubSpot' }).click();
    await page.locator('select[name="portal_id"]').selectOption(String(demo.portalId));
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${env.baseUrl}/integrations?notice=hubspot_connected`);
    await expect(page.getByTestId('hubspot-status').textContent()).resolves.toBe('Connected');

    // The sandbox's deal record: press "Send to Legal Review" the way the card does.
    const dealUrl = `${env.sandbox.url}/deals/${demo.portalId}/${demo.deals.withAttachments}`;
    await page.goto(dealUrl);
    await page.getByTestId('send-to-legal').click();
    await expect(page.getByTestId('sandbox-message').textContent()).resolves.toContain(
      'Sent to legal review',
    );
    await reloadUntil(page, 'prop-lexicontract_status', 'pending_review');

    // Legal moves the contract in LexiContract.
    await page.goto(`${env.baseUrl}/contracts`);
    await page.getByRole('link', { name: /Acme Corp/ }).click();
    await expect(page.getByTestId('contract-file').count()).resolves.toBe(3);
    await page.getByTestId('next-status').selectOption('in_review');
    await page.getByTestId('change-status').click();
    await page.waitForURL(/notice=status_changed/);
    await page.goto(`${env.baseUrl}/contracts`);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'contracts.png'), fullPage: true });

    // The deal in HubSpot follows within seconds.
    await page.goto(dealUrl);
    await reloadUntil(page, 'prop-lexicontract_status', 'in_review');
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'sandbox-deal.png'), fullPage: true });

    // Moving another deal to "Legal Review" runs the workflow action against the app.
    await page.goto(`${env.sandbox.url}/deals/${demo.portalId}/${demo.deals.withoutAttachments}`);
    await page.getByTestId('stage-select').selectOption({ label: 'Legal Review' });
    await page.getByTestId('move-stage').click();
    await expect(page.getByTestId('sandbox-message').textContent()).resolves.toContain(
      'workflow action',
    );
    await reloadUntil(page, 'prop-lexicontract_status', 'pending_review');
    await page.close();
  });
});
