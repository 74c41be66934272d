import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';

import { verifyV3 } from '../../server/src/hubspot/signature/index.ts';
import { bundleExtension, CardBundleError } from '../../sandbox/card-host/bundle.ts';
import { cardHostRoutes } from '../../sandbox/card-host-routes.ts';
import { createCardHost } from '../../sandbox/card-host/card-host.ts';
import { discoverExtensions } from '../../sandbox/card-host/extensions.ts';
import { SandboxRuntime } from '../../sandbox/runtime.ts';
import { SandboxState } from '../../sandbox/state.ts';
import { installedPortal, receiver, testApp, testSandbox, type Received } from './helpers.ts';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'card-host-'));
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A HubSpot project in a temp dir: app-hsmeta.json plus the given card files. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmp, 'project-'));
  await mkdir(path.join(dir, 'app', 'cards'), { recursive: true });
  await writeFile(
    path.join(dir, 'app', 'app-hsmeta.json'),
    JSON.stringify({
      uid: 'x',
      type: 'app',
      config: { name: 'Temp app', permittedUrls: { fetch: ['https://temp.example.com'] } },
    }),
  );
  for (const [name, text] of Object.entries(files)) {
    await writeFile(path.join(dir, 'app', 'cards', name), text);
  }
  return dir;
}

function cardMeta(uid: string, location: string, objectTypes: string[], entry: string): string {
  return JSON.stringify({
    uid,
    type: 'card',
    config: { name: uid, location, entrypoint: `/app/cards/${entry}`, objectTypes },
  });
}

function header(req: Received, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

describe('the card host bundles the app’s own extensions', () => {
  it('finds every card and the settings page of hubspot-app, and bundles each for the browser', async () => {
    const extensions = await discoverExtensions();
    expect(extensions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          uid: 'legal_review_card',
          kind: 'card',
          location: 'crm.record.tab',
          objectTypes: ['deals'],
        }),
        expect.objectContaining({ kind: 'settings', location: 'settings' }),
      ]),
    );
    for (const extension of extensions) {
      const script = await bundleExtension(extension);
      // The stand-in, not HubSpot's remote renderer, and nothing a strict CSP refuses.
      expect(script).toContain('card-host-mount');
      expect(script).not.toContain('@remote-ui');
      expect(script).not.toMatch(/\beval\(|new Function\(/);
    }
  });

  it('fails the bundle clearly when an extension imports a component the stand-in lacks', async () => {
    const dir = await project({
      'odd-card-hsmeta.json': cardMeta('odd_card', 'crm.record.tab', ['deals'], 'Odd.tsx'),
      'Odd.tsx': `import { hubspot, Text, FancyNewWidget } from '@hubspot/ui-extensions';
hubspot.extend(() => <FancyNewWidget><Text>hi</Text></FancyNewWidget>);`,
    });
    const [odd] = await discoverExtensions(dir);
    if (!odd) throw new Error('not discovered');
    const failure = await bundleExtension(odd).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CardBundleError);
    expect((failure as Error).message).toContain(
      'the sandbox\'s @hubspot/ui-extensions stand-in has no "FancyNewWidget"',
    );
  });

  it('serves a script that shows the bundle error where the card would be', async () => {
    const dir = await project({
      'odd-card-hsmeta.json': cardMeta('odd_card', 'crm.record.tab', ['deals'], 'Odd.tsx'),
      'Odd.tsx': `import { hubspot, FancyNewWidget } from '@hubspot/ui-extensions';
hubspot.extend(() => <FancyNewWidget />);`,
    });
    const state = new SandboxState({
      app: testApp(),
      now: Date.now,
      accessTokenTtlSeconds: 1800,
      authCodeTtlSeconds: 300,
    });
    const app = Fastify();
    await cardHostRoutes(
      app,
      new SandboxRuntime(state, { max: 100, windowMs: 10_000 }),
      createCardHost({ appId: '1', appDir: dir }),
    );
    const response = await app.inject({ method: 'GET', url: '/card-host/extensions/odd_card.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/javascript');
    expect(response.body).toContain('extension-bundle-error');
    expect(response.body).toContain('has no \\"FancyNewWidget\\"');
    const unknown = await app.inject({ method: 'GET', url: '/card-host/extensions/nope.js' });
    expect(unknown.statusCode).toBe(404);
    await app.close();
  });

  it('places cards by their hsmeta location and object types, with nothing more to write', async () => {
    const dir = await project({
      'a-hsmeta.json': cardMeta('deal_tab', 'crm.record.tab', ['deals'], 'A.tsx'),
      'b-hsmeta.json': cardMeta('deal_side', 'crm.record.sidebar', ['deals', 'companies'], 'B.tsx'),
      'c-hsmeta.json': cardMeta('company_tab', 'crm.record.tab', ['COMPANIES'], 'C.tsx'),
    });
    const host = createCardHost({ appId: '777', appDir: dir });
    const user = { id: 5, email: 'rep@acme.test', name: 'Rep' };
    const deal = await host.cardPanels({ portalId: 1, objectType: 'deals', objectId: '42', user });
    expect(deal.tab).toContain('data-card-host-mount="deal_tab"');
    expect(deal.tab).not.toContain('deal_side');
    expect(deal.sidebar).toContain('data-card-host-mount="deal_side"');
    expect(deal.scripts).toContain('/card-host/extensions/deal_tab.js');
    expect(deal.scripts).toContain('/card-host/extensions/deal_side.js');
    expect(deal.scripts).not.toContain('company_tab');
    const company = await host.cardPanels({
      portalId: 1,
      objectType: 'companies',
      objectId: '9',
      user,
    });
    expect(company.tab).toContain('data-card-host-mount="company_tab"');
    expect(company.sidebar).toContain('data-card-host-mount="deal_side"');
    // The context HubSpot gives the card: the record's id and type, the portal, the user.
    expect(company.tab).toContain('&quot;objectTypeId&quot;:&quot;0-2&quot;');
    expect(company.tab).toContain('&quot;appName&quot;:&quot;Temp app&quot;');
  });
});

describe('hubspot.fetch through the sandbox', () => {
  async function setUp() {
    const app = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"state":"ready"}');
    });
    const sandbox = await testSandbox({ app: { appBaseUrl: app.url } });
    const { portalId } = installedPortal(sandbox);
    const deal = sandbox.control.createDeal(portalId, { dealname: 'Card deal' });
    const page = await fetch(`${sandbox.url}/deals/${portalId}/${deal.id}`);
    const html = await page.text();
    const context = /data-context="([^"]*)"/.exec(html)?.[1];
    if (!context) throw new Error('no card on the deal page');
    const { user } = JSON.parse(context.replaceAll('&quot;', '"')) as { user: { id: number } };
    const call = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      fetch(`${sandbox.url}/card-host/fetch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({
          extension: 'legal_review_card',
          portalId,
          userId: user.id,
          method: 'GET',
          ...body,
        }),
      });
    return { app, sandbox, portalId, deal, page, call };
  }

  it('forwards the card’s call to the app’s base URL, signed v3 with the portal and user', async () => {
    const { app, sandbox, portalId, deal, page, call } = await setUp();
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const response = await call({
      url: `https://lexicontract.example.com/api/v1/integrations/hubspot/card?dealId=${deal.id}`,
    });
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toEqual({ status: 200, body: { state: 'ready' } });
    const req = app.received[0];
    if (!req) throw new Error('the app got nothing');
    const url = new URL(req.url, app.url);
    expect(url.pathname).toBe('/api/v1/integrations/hubspot/card');
    expect(url.searchParams.get('dealId')).toBe(deal.id);
    expect(url.searchParams.get('portalId')).toBe(String(portalId));
    expect(url.searchParams.get('userId')).not.toBeNull();
    expect(
      verifyV3({
        clientSecret: sandbox.app.clientSecret,
        method: 'GET',
        uri: `${app.url}${req.url}`,
        rawBody: req.rawBody,
        signature: header(req, 'x-hubspot-signature-v3'),
        timestamp: header(req, 'x-hubspot-request-timestamp'),
        now: Date.now(),
      }),
    ).toEqual({ ok: true, version: 'v3' });
  });

  it('refuses origins outside permittedUrls.fetch, other routes, and other sites’ pages', async () => {
    const { app, call } = await setUp();
    const foreign = await call({
      url: 'https://evil.example.com/api/v1/integrations/hubspot/card',
    });
    expect(foreign.status).toBe(403);
    const webhook = await call({
      url: 'https://lexicontract.example.com/api/v1/integrations/hubspot/webhooks',
      method: 'POST',
    });
    expect(webhook.status).toBe(403);
    const crossSite = await call(
      { url: 'https://lexicontract.example.com/api/v1/integrations/hubspot/card' },
      { origin: 'https://evil.example.com' },
    );
    expect(crossSite.status).toBe(403);
    expect(app.received).toHaveLength(0);
  });
});

describe('the company record page', () => {
  it('shows the company, its deals, and the app’s Company card with the company as its record', async () => {
    const sandbox = await testSandbox();
    const { portalId } = installedPortal(sandbox);
    const deal = sandbox.control.createDeal(portalId, { dealname: 'Acme <renewal>' });
    const company = sandbox.control.createCrmObject(portalId, 'companies', {
      name: 'Acme & Co',
      domain: 'acme.example',
      city: 'London',
      country: 'United Kingdom',
    });
    const other = sandbox.control.createCrmObject(portalId, 'companies', { name: 'Acme Holdings' });
    sandbox.control.associateWithDeal(portalId, deal.id, 'companies', company.id, {
      primary: true,
    });
    sandbox.control.associateWithDeal(portalId, deal.id, 'companies', other.id);

    const page = await fetch(`${sandbox.url}/companies/${portalId}/${company.id}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('Acme &amp; Co');
    expect(html).toContain('acme.example');
    expect(html).toContain('United Kingdom');
    expect(html).toContain(
      `href="/deals/${portalId}/${deal.id}" data-testid="company-deal-link">Acme &lt;renewal&gt;</a> <span class="tag">Primary</span>`,
    );
    expect(html).toContain('data-card-host-mount="company_contracts_card"');
    expect(html).toContain('/card-host/extensions/company_contracts_card.js');
    expect(html).not.toContain('data-card-host-mount="legal_review_card"');
    const context = /data-card-host-mount="company_contracts_card" data-context="([^"]*)"/.exec(
      html,
    )?.[1];
    if (!context) throw new Error('no Company card on the company page');
    expect(JSON.parse(context.replaceAll('&quot;', '"'))).toMatchObject({
      portalId,
      location: 'crm.record.tab',
      crm: { objectId: Number(company.id), objectTypeId: '0-2' },
    });

    // The deal page lists the deal's companies, the primary one marked, linking to their pages.
    const dealHtml = await (await fetch(`${sandbox.url}/deals/${portalId}/${deal.id}`)).text();
    expect(dealHtml).toContain(
      `<a href="/companies/${portalId}/${company.id}" data-testid="company-link">Acme &amp; Co</a> <span class="tag">Primary</span>`,
    );
    expect(dealHtml).toContain(
      `<a href="/companies/${portalId}/${other.id}" data-testid="company-link">Acme Holdings</a></li>`,
    );
    const home = await (await fetch(`${sandbox.url}/`)).text();
    expect(home).toContain(`href="/companies/${portalId}/${other.id}"`);

    for (const path of [
      `/companies/${portalId}/999999999`,
      `/companies/not-a-portal/${company.id}`,
      `/companies/123/${company.id}`,
    ]) {
      const missing = await fetch(`${sandbox.url}${path}`);
      expect(missing.status, path).toBe(404);
      expect(missing.headers.get('content-type'), path).toContain('text/html');
      expect(await missing.text(), path).toContain('No such company.');
    }
  });
});
