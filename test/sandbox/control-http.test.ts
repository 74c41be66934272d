import { PassThrough } from 'node:stream';

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { TokenResponseSchema } from '../../server/src/hubspot/wire/index.ts';
import {
  DEMO_PORTAL_ID,
  SANDBOX_STAGE_IDS,
  demoPortalOf,
  expectedFileSha256,
} from '../../sandbox/index.ts';
import { api, sandbox, testSandbox } from './helpers.ts';

const handle = await sandbox({ seedDemoPortal: true });

async function control(method: string, path: string, body?: unknown) {
  return api(handle, undefined, method, `/_sandbox${path}`, body);
}

describe('demo portal', () => {
  it('has the Sales Pipeline with Legal Review and deals with and without attachments', () => {
    const demo = demoPortalOf(handle);
    expect(demo?.portalId).toBe(DEMO_PORTAL_ID);
    const stages = handle.control.pipelines(DEMO_PORTAL_ID)[0]?.stages.map((s) => s.label);
    expect(stages).toEqual(expect.arrayContaining(['Legal Review', 'Closed Lost']));
    expect(
      handle.control.getDeal(DEMO_PORTAL_ID, demo?.deals.withAttachments ?? '')?.properties
        .dealname,
    ).toContain('Acme');
    // A seeded deal in Legal Review would sit there without a contract.
    for (const dealId of Object.values(demo?.deals ?? {})) {
      expect(handle.control.getDeal(DEMO_PORTAL_ID, dealId)?.properties.dealstage).not.toBe(
        SANDBOX_STAGE_IDS.legalReview,
      );
    }
    expect(Object.keys(demo?.deals ?? {})).toHaveLength(4);
  });
});

describe('control routes', () => {
  it('drive the sandbox from another process', async () => {
    const portal = await control('POST', '/portals', { name: 'HTTP portal' });
    expect(portal.status).toBe(201);
    const { portalId } = portal.body as { portalId: number };
    const install = await control('POST', `/portals/${portalId}/install`, {
      scopes: ['crm.objects.deals.read'],
    });
    const tokens = TokenResponseSchema.parse(install.body);
    const deal = await control('POST', `/portals/${portalId}/deals`, {
      properties: { dealname: 'Over HTTP' },
    });
    const { id } = deal.body as { id: string };
    const notes = await control('POST', `/portals/${portalId}/deals/${id}/notes`, {
      files: [{ name: 'big.bin', sizeBytes: 200_000 }],
    });
    const { fileIds } = notes.body as { fileIds: string[] };
    const sha = await control('GET', `/portals/${portalId}/files/${fileIds[0]}/sha256`);
    expect(sha.body).toEqual({
      sha256: expectedFileSha256({ name: 'big.bin', sizeBytes: 200_000 }),
    });
    const edited = await control('PATCH', `/portals/${portalId}/deals/${id}`, {
      properties: { amount: '7' },
    });
    expect(edited.status).toBe(200);
    const moved = await control('POST', `/portals/${portalId}/deals/${id}/stage`, {
      stageId: SANDBOX_STAGE_IDS.closedLost,
    });
    expect(
      (moved.body as { deal: { properties: Record<string, string> } }).deal.properties.dealstage,
    ).toBe('closedlost');
    const fault = await control('POST', '/faults', {
      path: '/crm/objects/',
      status: 500,
      count: 1,
    });
    expect(fault.status).toBe(201);
    expect(
      (await api(handle, tokens.access_token, 'GET', `/crm/objects/2026-03/deals/${id}`)).status,
    ).toBe(500);
    expect(
      (await api(handle, tokens.access_token, 'GET', `/crm/objects/2026-03/deals/${id}`)).status,
    ).toBe(200);
    const log = await control('GET', '/request-log');
    expect((log.body as { results: { status: number }[] }).results.map((e) => e.status)).toEqual([
      500, 200,
    ]);
    expect((await control('POST', `/portals/${portalId}/revoke`)).status).toBe(204);
    expect(
      (await api(handle, tokens.access_token, 'GET', `/crm/objects/2026-03/deals/${id}`)).status,
    ).toBe(401);
    expect((await control('DELETE', `/portals/${portalId}/deals/${id}`)).status).toBe(204);
    expect((await control('GET', `/portals/${portalId}/deals/${id}`)).status).toBe(404);
    expect((await control('POST', '/reset')).status).toBe(204);
    expect((await control('GET', '/request-log')).body).toEqual({ results: [] });
  });

  it('answers bad control input with 400 and unknown things with 404', async () => {
    expect((await control('POST', '/portals/abc/deals', {})).status).toBe(400);
    expect((await control('GET', '/portals/1/deals/2')).status).toBe(404);
    expect((await control('POST', '/faults', { path: '/x' })).status).toBe(400);
  });

  it('plays the consent page for an authorize URL', async () => {
    const url = new URL(handle.authorizeUrl);
    url.search = new URLSearchParams({
      client_id: handle.app.clientId,
      redirect_uri: 'https://app.lexicontract.test/api/v1/integrations/hubspot/callback',
      scope: (handle.app.requiredScopes ?? []).join(' '),
      state: 's',
    }).toString();
    const approved = await control('POST', '/approve-install', {
      authorizeUrl: url.toString(),
      portalId: DEMO_PORTAL_ID,
    });
    const redirect = new URL((approved.body as { redirectUrl: string }).redirectUrl);
    expect(redirect.searchParams.get('state')).toBe('s');
    expect(redirect.searchParams.get('code')).toBeTruthy();
    const denied = await control('POST', '/approve-install', {
      authorizeUrl: url.toString(),
      deny: true,
    });
    expect(
      new URL((denied.body as { redirectUrl: string }).redirectUrl).searchParams.get('error'),
    ).toBe('access_denied');
  });
});

describe('control API exposure', () => {
  it('/_sandbox/info describes the app without its client secret', async () => {
    const info = await control('GET', '/info');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      url: handle.url,
      app: { clientId: handle.app.clientId, appId: handle.app.appId },
    });
    expect(JSON.stringify(info.body)).not.toContain(handle.app.clientSecret);
    expect((info.body as { app: Record<string, unknown> }).app).not.toHaveProperty('clientSecret');
  });

  it('refuses requests a browser marks as cross-site, and non-JSON bodies', async () => {
    const before = handle.control.listPortals().length;
    const post = (headers: Record<string, string>, body?: string) =>
      fetch(`${handle.url}/_sandbox/portals`, {
        method: 'POST',
        headers,
        ...(body !== undefined ? { body } : {}),
      });
    const json = { 'content-type': 'application/json' };
    // What a form on another site can send: no preflight, so only the server can refuse it.
    expect(
      (await post({ 'content-type': 'application/x-www-form-urlencoded' }, 'name=evil')).status,
    ).toBe(415);
    expect((await post({ 'content-type': 'text/plain' }, '{"name":"evil"}')).status).toBe(415);
    expect((await post({ ...json, origin: 'https://evil.example' }, '{}')).status).toBe(403);
    expect((await post({ ...json, 'sec-fetch-site': 'cross-site' }, '{}')).status).toBe(403);
    expect((await post({ ...json, 'sec-fetch-site': 'same-site' }, '{}')).status).toBe(403);
    const reset = await fetch(`${handle.url}/_sandbox/reset`, {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    });
    expect(reset.status).toBe(403);
    expect(handle.control.listPortals()).toHaveLength(before);
    // The sandbox's own pages, typed-in URLs and scripts still get through.
    expect((await post({ ...json, origin: handle.url }, '{}')).status).toBe(201);
    expect((await post({ ...json, 'sec-fetch-site': 'same-origin' }, '{}')).status).toBe(201);
    expect((await post({ ...json, 'sec-fetch-site': 'none' }, '{}')).status).toBe(201);
    expect((await post(json, '{}')).status).toBe(201);
  });

  it('logs requests without their query strings', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    const logged = await testSandbox({ logger: pino({ level: 'info' }, stream) });
    const state = 'state-that-must-not-be-logged';
    const authorize = new URL(logged.authorizeUrl);
    authorize.search = new URLSearchParams({
      client_id: logged.app.clientId,
      redirect_uri: 'https://app.lexicontract.test/api/v1/integrations/hubspot/callback',
      scope: (logged.app.requiredScopes ?? []).join(' '),
      state,
    }).toString();
    const page = await fetch(authorize);
    expect(page.status).toBe(200);
    await page.text();
    await fetch(`${logged.url}/_sandbox/request-log?since=${state}`);
    const entries = lines.join('').trim().split('\n');
    expect(entries.some((line) => line.includes('"path":"/oauth/authorize"'))).toBe(true);
    expect(lines.join('')).not.toContain(state);
  });
});
