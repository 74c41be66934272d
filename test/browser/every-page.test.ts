import { randomUUID } from 'node:crypto';

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

import { recordAudit } from '../../server/src/core/audit/audit-log.ts';
import { createSignInLink } from '../../server/src/core/auth/sign-in-links.ts';
import { createContract } from '../../server/src/core/contracts/contracts-service.ts';
import { setImportOutcome } from '../../server/src/core/contracts/external-records.ts';
import { createApiKey } from '../../server/src/core/organizations/api-keys.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';

const database = await createTestDatabase();
const env = await startHubSpotTestEnv({ db: database.db });
const browser = await launchBrowser();

const { organizationId, portalId } = await env.connectPortal({ name: 'Every Page Legal' });
const contract = await createContract(database.db, {
  organizationId,
  title: 'Globex renewal MSA',
  externalSource: 'hubspot',
  externalId: '90210',
  externalAccountId: portalId,
  createdBySource: 'hubspot_card',
  actor: 'hubspot:user:4242',
  sourceSnapshot: {
    source: 'hubspot',
    portalId,
    dealId: '90210',
    name: 'Globex renewal',
    amount: '48000.5',
    currency: 'EUR',
    closeDate: '2026-12-31T00:00:00.000Z',
    pipeline: { id: 'default', label: 'Sales pipeline' },
    stage: { id: 'legal', label: 'Legal Review' },
    ownerId: '77',
    fetchedAt: '2026-12-01T10:00:00.000Z',
    review: {
      trigger: 'stage_rule',
      priority: 'high',
      queue: 'Enterprise',
      rule: { id: '5b0b8f5e-3a57-4a55-9a3c-4f3f9a1c2d10', name: 'Big deals at Contract Sent' },
    },
  },
});
await setImportOutcome(database.db, organizationId, contract.id, {
  state: 'complete',
  summary: {
    result: 'imported_with_skips',
    skipped: [
      { fileId: '1', name: 'Salaries.xlsx', reason: 'type_not_allowed' },
      { fileId: '2', name: 'Board minutes.pdf', reason: 'sensitive_or_unavailable' },
      { fileId: '3', name: 'Scan.pdf', reason: 'too_large' },
    ],
  },
});
const apiKey = await createApiKey(database.db, organizationId, 'reporting');
// A long, wide audit entry: the log must wrap it, not overflow.
await recordAudit(database.db, {
  organizationId,
  actor: `hubspot:portal:${portalId}:workflow:123456789`,
  action: 'hubspot.workflow.enrolled_with_a_long_action_name',
  target: `contract:${contract.id}`,
  outcome: 'success',
  details: {
    scopes: Array.from({ length: 12 }, (_, i) => `crm.objects.deals.scope_${i}_write`),
    note: 'x'.repeat(400),
  },
});

interface Visit {
  readonly status: number;
  readonly contentType: string;
  readonly scrollWidth: number;
  readonly url: string;
}

/** Visits a page at 1280 px and fails on any console error or page error. */
async function visit(page: Page, path: string, errors: string[]): Promise<Visit> {
  const response = await page.goto(path.startsWith('http') ? path : `${env.baseUrl}${path}`);
  if (!response) throw new Error(`no response for ${path}`);
  const scrollWidth = Number(await page.evaluate('document.documentElement.scrollWidth'));
  expect(errors, `console errors on ${path}`).toEqual([]);
  return {
    status: response.status(),
    contentType: response.headers()['content-type'] ?? '',
    scrollWidth,
    url: page.url(),
  };
}

async function newPage(errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // The browser reports a page's own 4xx status as a failed load: expected at a wrong id.
    if (
      message.text().startsWith('Failed to load resource: the server responded with a status of 4')
    )
      return;
    errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return page;
}

const SIGNED_IN_PAGES = [
  '/contracts',
  '/contracts?status=in_review&q=Globex',
  `/contracts/${contract.id}`,
  '/integrations',
  '/api-keys',
  `/api-keys/${apiKey.id}/revoke`,
  '/audit-log',
  `/audit-log?contract=${contract.id}`,
  '/audit-log?action=api_key.created',
];

const WRONG_IDS = [
  `/contracts/${randomUUID()}`,
  '/contracts/not-a-contract',
  `/contracts/${contract.id}/files/${randomUUID()}`,
  `/api-keys/${randomUUID()}/revoke`,
  '/api-keys/not-a-key/revoke',
  '/no-such-page',
];

describe('every page in a real browser at 1280 px', () => {
  it('signed out: pages are HTML, protected ones lead to sign-in and back', async () => {
    const errors: string[] = [];
    const page = await newPage(errors);
    for (const path of ['/sign-in', '/no-such-page', ...SIGNED_IN_PAGES]) {
      const seen = await visit(page, path, errors);
      expect(seen.contentType, path).toContain('text/html');
      expect(seen.scrollWidth, path).toBeLessThanOrEqual(1280);
      if (path !== '/sign-in' && path !== '/no-such-page')
        expect(new URL(seen.url).pathname, path).toBe('/sign-in');
    }
    const missing = await visit(page, '/no-such-page', errors);
    expect(missing.status).toBe(404);
    await expect(page.getByTestId('error-page').getAttribute('data-status')).resolves.toBe('404');
    await page.close();
  });

  it('signed in: every page and every wrong id is an HTML page without overflow', async () => {
    const link = await createSignInLink(
      database.db,
      { publicBaseUrl: env.baseUrl },
      { organizationId, email: 'counsel@everypage.test' },
    );
    const errors: string[] = [];
    const page = await newPage(errors);
    await page.goto(link.url);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${env.baseUrl}/integrations`);

    for (const path of SIGNED_IN_PAGES) {
      const seen = await visit(page, path, errors);
      expect(seen.status, path).toBe(200);
      expect(seen.contentType, path).toContain('text/html');
      expect(seen.scrollWidth, path).toBeLessThanOrEqual(1280);
    }
    for (const path of WRONG_IDS) {
      const seen = await visit(page, path, errors);
      expect(seen.status, path).toBe(404);
      expect(seen.contentType, path).toContain('text/html');
      expect(seen.scrollWidth, path).toBeLessThanOrEqual(1280);
      await expect(page.getByTestId('error-page').count(), path).resolves.toBe(1);
    }

    // The contract page reads as a person would: labels, money, names, the deal's link.
    await visit(page, `/contracts/${contract.id}`, errors);
    const snapshot = (await page.getByTestId('record-snapshot').textContent()) ?? '';
    expect(snapshot).toContain('Sales pipeline');
    expect(snapshot).toContain('Legal Review');
    expect(snapshot).toContain('€48,000.50');
    expect(snapshot).not.toContain('closeDate');
    expect(snapshot).toContain('Review queue');
    expect(snapshot).toContain('Big deals at Contract Sent');
    const skipped = (await page.getByTestId('skipped-attachments').textContent()) ?? '';
    expect(skipped).toContain('Salaries.xlsx');
    expect(skipped).toContain('not an allowed document type');
    expect(skipped).toContain('marked sensitive');
    await expect(page.getByTestId('crm-record-link').getAttribute('href')).resolves.toBe(
      `https://app.hubspot.com/contacts/${portalId}/record/0-3/90210`,
    );
    await expect(page.content()).resolves.not.toMatch(/user:[0-9a-f-]{36}/);

    // The audit log: UTC text, readable fields, one actor format.
    await visit(page, '/audit-log', errors);
    const log = (await page.locator('table.audit').textContent()) ?? '';
    expect(log).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    expect(log).toContain(`HubSpot workflow 123456789 (portal ${portalId})`);
    expect(log).not.toMatch(/"scopes"/);
    await page.close();
  });

  it('the sandbox: deal list, deal record with the real card, app settings, company record with its card, wrong ids', async () => {
    const sandbox = env.sandbox.url;
    const deal = env.sandbox.control.createDeal(Number(portalId), {
      dealname: 'Initrode — a deal with a rather long name to wrap on the record page',
      amount: '1234567.5',
      deal_currency_code: 'EUR',
    });
    const acme = env.sandbox.control.createCrmObject(Number(portalId), 'companies', {
      name: 'Acme',
      domain: 'acme.example',
      city: 'London',
      country: 'United Kingdom',
    });
    env.sandbox.control.associateWithDeal(Number(portalId), deal.id, 'companies', acme.id, {
      primary: true,
    });
    const errors: string[] = [];
    const page = await newPage(errors);
    // `ready`: what each extension on the page draws once its script has run.
    const pages: Array<{ path: string; ready?: string[] }> = [
      { path: `${sandbox}/` },
      {
        path: `${sandbox}/deals/${portalId}/${deal.id}`,
        ready: [
          '[data-testid="extension-legal_review_card"] [data-testid="send"]',
          '[data-testid="extension-deal_sidebar_card"] [data-testid="send"]',
        ],
      },
      { path: `${sandbox}/settings/${portalId}`, ready: ['[data-testid="connection-state"]'] },
      {
        path: `${sandbox}/companies/${portalId}/${acme.id}`,
        // The Company card has asked the app and drawn its answer: no contracts on Acme yet.
        ready: ['[data-testid="extension-company_contracts_card"] [data-testid="empty"]'],
      },
    ];
    for (const { path, ready } of pages) {
      const seen = await visit(page, path, errors);
      expect(seen.status, path).toBe(200);
      expect(seen.contentType, path).toContain('text/html');
      // The app's extension has rendered (its script ran under the page's CSP).
      for (const selector of ready ?? []) await page.locator(selector).waitFor();
      const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
      expect(width, path).toBeLessThanOrEqual(1280);
      expect(errors, path).toEqual([]);
    }
    await visit(page, `${sandbox}/`, errors);
    const list = (await page.locator('main').textContent()) ?? '';
    expect(list).toContain('€1,234,567.50');
    // From the deal to its company and back, as a HubSpot user goes.
    await visit(page, `${sandbox}/deals/${portalId}/${deal.id}`, errors);
    await expect(page.getByTestId('deal-companies').textContent()).resolves.toContain(
      'Acme Primary',
    );
    await page.getByTestId('company-link').click();
    await page.waitForURL(`${sandbox}/companies/${portalId}/${acme.id}`);
    await expect(page.getByTestId('company-properties').textContent()).resolves.toContain('London');
    await page.getByTestId('company-deal-link').click();
    await page.waitForURL(`${sandbox}/deals/${portalId}/${deal.id}`);
    for (const path of [
      `${sandbox}/deals/${portalId}/999999999`,
      `${sandbox}/deals/not-a-portal/1`,
      `${sandbox}/settings/123`,
      `${sandbox}/companies/${portalId}/999999999`,
      `${sandbox}/companies/not-a-portal/${acme.id}`,
    ]) {
      const seen = await visit(page, path, errors);
      expect(seen.status, path).toBe(404);
      expect(seen.contentType, path).toContain('text/html');
      expect(seen.scrollWidth, path).toBeLessThanOrEqual(1280);
    }
    await page.close();
  });

  it('a contract link opened signed out lands on that contract after Sign in with HubSpot, leaving the connection as it was', async () => {
    const before = await database.db
      .selectFrom('organization_integrations')
      .select(['connected_at', 'access_token_ciphertext'])
      .where('organization_id', '=', organizationId)
      .executeTakeFirstOrThrow();
    const errors: string[] = [];
    const page = await newPage(errors);
    await page.goto(`${env.baseUrl}/contracts/${contract.id}`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.getByTestId('sign-in-hubspot').click();
    await page.waitForURL((url) => url.toString().startsWith(env.sandbox.authorizeUrl));
    await page.locator('select[name="portal_id"]').selectOption(portalId);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${env.baseUrl}/contracts/${contract.id}`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Globex renewal MSA');
    expect(errors).toEqual([]);

    const after = await database.db
      .selectFrom('organization_integrations')
      .select(['connected_at', 'access_token_ciphertext'])
      .where('organization_id', '=', organizationId)
      .executeTakeFirstOrThrow();
    expect(after.connected_at).toEqual(before.connected_at);
    expect(after.access_token_ciphertext).toEqual(before.access_token_ciphertext);
    await page.close();
  });
});
