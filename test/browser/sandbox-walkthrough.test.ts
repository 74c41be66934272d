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

/** Reloads the page until the text appears (the record's properties are server-rendered). */
async function reloadUntil(page: Page, testId: string, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const locator = page.getByTestId(testId);
    const value = (await locator.count()) > 0 ? await locator.textContent() : null;
    if (value?.includes(text)) return;
    if (Date.now() > deadline)
      throw new Error(`${testId} never showed ${text} (last: ${value ?? 'none'})`);
    await page.waitForTimeout(300);
    await page.reload();
  }
}

/** Console errors and page errors (a CSP refusal, a crashed extension) fail the walk. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

describe('sandbox mode walk-through in a real browser', () => {
  it('installs, sends a deal with the real Legal review card, sends a new version, follows status changes on the deal and its company, and shows the settings page', async () => {
    const demo = demoPortalOf(env.sandbox);
    if (!demo) throw new Error('no demo portal');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);

    // Marketplace-style install: no LexiContract session, the installer is signed in.
    await page.goto(`${env.baseUrl}/sign-in`);
    await page.getByRole('link', { name: 'Sign in with HubSpot' }).click();
    await page.getByTestId('consent-scopes').waitFor();
    await expect(page.getByTestId('consent-scopes').textContent()).resolves.toContain('View deals');
    await page.screenshot({
      path: path.join(ARTIFACTS_DIR, 'sandbox-consent.png'),
      fullPage: true,
    });
    await page.locator('select[name="portal_id"]').selectOption(String(demo.portalId));
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${env.baseUrl}/integrations?notice=hubspot_connected`);
    await expect(page.getByTestId('hubspot-status').textContent()).resolves.toBe('Connected');

    // The deal record renders the app's real card (hubspot-app/app/cards/LegalReviewCard.tsx).
    const dealUrl = `${env.sandbox.url}/deals/${demo.portalId}/${demo.deals.withAttachments}`;
    await page.goto(dealUrl);
    const card = page.getByTestId('extension-legal_review_card');
    const send = card.getByTestId('send');
    await send.waitFor();
    await expect(send.textContent()).resolves.toBe('Send to Legal Review');
    await expect(card.getByTestId('empty').textContent()).resolves.toContain(
      'Not sent to legal review yet',
    );
    // File selection: three importable files, preselected; the rep leaves the DPA out.
    const files = card.locator('input[type="checkbox"][data-testid^="file-"]');
    await expect(files.count()).resolves.toBe(3);
    const dpa = card.locator('label', { hasText: 'Acme DPA redlines.docx' }).locator('input');
    await expect(dpa.isChecked()).resolves.toBe(true);
    await dpa.uncheck();
    await expect(dpa.isChecked()).resolves.toBe(false);

    await send.click();
    const alert = page.getByTestId('card-alert').last();
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain('Sent to legal review');
    // actions.refreshObjectProperties(): the record's properties are fetched and drawn again.
    await page.locator('[data-card-host-properties][data-refreshed]').waitFor();
    // The card loads again: the contract is open, so the button now sends a new version.
    await card.getByTestId('send').filter({ hasText: 'Send new version' }).waitFor();
    await card.getByTestId('contracts').waitFor();
    await reloadUntil(page, 'prop-lexicontract_status', 'Pending review');

    // Legal moves the contract in LexiContract; it holds the two selected files.
    await page.goto(`${env.baseUrl}/contracts`);
    await page.getByRole('link', { name: /Acme Corp/ }).click();
    await expect(page.getByTestId('contract-file').count()).resolves.toBe(2);
    await page.getByTestId('next-status').selectOption('in_review');
    await page.getByTestId('change-status').click();
    await page.waitForURL(/notice=status_changed/);
    await page.goto(`${env.baseUrl}/contracts`);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'contracts.png'), fullPage: true });

    // The deal in HubSpot follows; the card shows the contract's status by its label.
    await page.goto(dealUrl);
    await reloadUntil(page, 'prop-lexicontract_status', 'In review');
    await card.locator('[data-testid^="status-"]').first().waitFor();
    await expect(card.locator('[data-testid^="status-"]').first().textContent()).resolves.toContain(
      'In review',
    );
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'sandbox-deal.png'), fullPage: true });

    // The deal's primary company: its record shows the app's Company card, which lists the
    // contract with its status by its label.
    await page
      .getByTestId('deal-companies')
      .locator('li', { hasText: 'Primary' })
      .getByTestId('company-link')
      .click();
    await page.waitForURL(
      `${env.sandbox.url}/companies/${demo.portalId}/${demo.acmeContext.primaryCompanyId}`,
    );
    const companyCard = page.getByTestId('extension-company_contracts_card');
    await companyCard.getByTestId('contracts').waitFor();
    await expect(companyCard.getByTestId('contracts').textContent()).resolves.toContain(
      'Acme Corp',
    );
    await expect(
      companyCard.locator('[data-testid^="status-"]').first().textContent(),
    ).resolves.toBe('In review');
    await page.screenshot({
      path: path.join(ARTIFACTS_DIR, 'sandbox-company.png'),
      fullPage: true,
    });
    // Back to the deal, through the company's list of deals.
    await page.getByTestId('company-deal-link').click();
    await page.waitForURL(dealUrl);

    // "Send new version" on the open contract.
    await card.getByTestId('send').filter({ hasText: 'Send new version' }).click();
    await page.getByTestId('card-alert').filter({ hasText: 'New version sent' }).waitFor();
    // The new version starts its own review.
    await reloadUntil(page, 'prop-lexicontract_status', 'Pending review');

    // A rep edits lexicontract_status by hand: the app puts the true status back, and says why.
    await page.getByTestId('status-select').selectOption({ label: 'Approved' });
    await page.getByTestId('set-status').click();
    await page.waitForURL(/m=status_set/);
    await reloadUntil(page, 'status-reverted', 'LexiContract put the status back');
    await expect(page.getByTestId('prop-lexicontract_status').textContent()).resolves.toBe(
      'Pending review',
    );

    // Moving another deal to "Legal Review" runs the workflow action; its outputs show on the deal.
    await page.goto(`${env.sandbox.url}/deals/${demo.portalId}/${demo.deals.withoutAttachments}`);
    await page.getByTestId('stage-select').selectOption({ label: 'Legal Review' });
    await page.getByTestId('move-stage').click();
    await expect(page.getByTestId('sandbox-message').textContent()).resolves.toContain(
      'workflow action',
    );
    await expect(page.getByTestId('workflow-run').textContent()).resolves.toContain('HTTP 200');
    // The action waits for the import, then the app completes it with its outputs.
    await reloadUntil(page, 'workflow-run', 'Completed by the app');
    await page.screenshot({
      path: path.join(ARTIFACTS_DIR, 'sandbox-workflow.png'),
      fullPage: true,
    });
    await reloadUntil(page, 'prop-lexicontract_status', 'Pending review');

    // The app's settings page, rendered from hubspot-app/app/settings/SettingsPage.tsx.
    await page.goto(`${env.sandbox.url}/settings/${demo.portalId}`);
    const settings = page.getByTestId('extension-lexicontract_settings');
    await settings.getByTestId('connection-state').waitFor();
    await expect(settings.getByTestId('connection-state').textContent()).resolves.toBe('Connected');
    await page.screenshot({
      path: path.join(ARTIFACTS_DIR, 'sandbox-settings.png'),
      fullPage: true,
    });
    await settings.getByTestId('closed-lost').selectOption('do_nothing');
    await settings.getByTestId('save').click();
    await page.getByTestId('card-alert').filter({ hasText: 'Saved' }).waitFor();
    await page.reload();
    await settings.getByTestId('closed-lost').waitFor();
    await expect(settings.getByTestId('closed-lost').inputValue()).resolves.toBe('do_nothing');

    // The app's stored authorization stops working: the card asks to reconnect, and no Send.
    env.sandbox.control.revokePortal(demo.portalId);
    env.sandbox.control.installApp(demo.portalId);
    await page.goto(dealUrl);
    await card.getByTestId('needs-reconnect').waitFor();
    await expect(card.getByTestId('needs-reconnect').textContent()).resolves.toContain(
      'Reconnect LexiContract',
    );
    await expect(card.getByTestId('send').count()).resolves.toBe(0);
    await expect(card.getByTestId('reconnect-link').getAttribute('href')).resolves.toBe(
      `${env.baseUrl}/integrations`,
    );

    expect(errors).toEqual([]);
    await page.close();
  });
});
