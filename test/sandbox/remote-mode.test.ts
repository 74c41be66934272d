import { describe, expect, it } from 'vitest';

import { APP_SCOPES, REDIRECT_URI, sandbox } from './helpers.ts';

const TOKEN = 'remote-control-token-of-this-test';
const handle = await sandbox({ controlToken: TOKEN, seedDemoPortal: true });

async function consentAs(portal: string, token?: string): Promise<Response> {
  const url = new URL(handle.authorizeUrl);
  url.search = new URLSearchParams({
    client_id: handle.app.clientId,
    redirect_uri: REDIRECT_URI,
    scope: APP_SCOPES.join(' '),
    state: 'st-remote',
  }).toString();
  const html = await (await fetch(url)).text();
  expect(html).toContain('name="sandbox_token"');
  const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return fetch(`${handle.url}/oauth/authorize/decision`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      request_id: requestId,
      portal_id: portal,
      decision: 'approve',
      ...(token !== undefined ? { sandbox_token: token } : {}),
    }).toString(),
  });
}

describe('a sandbox exposed beyond loopback (controlToken set)', () => {
  it('refuses control API requests without the token, and takes them with it', async () => {
    const without = await fetch(`${handle.url}/_sandbox/portals`);
    expect(without.status).toBe(401);
    const wrong = await fetch(`${handle.url}/_sandbox/portals`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    const created = await fetch(`${handle.url}/_sandbox/portals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Made by control' }),
    });
    expect(created.status).toBe(201);
  });

  it('installs into an existing portal only with the token; a new test portal needs none', async () => {
    const [existing] = handle.control.listPortals();
    const portalId = String(existing?.portalId);
    const refused = await consentAs(portalId);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('needs the sandbox token');
    expect((await consentAs(portalId, 'wrong')).status).toBe(403);
    const allowed = await consentAs(portalId, TOKEN);
    expect(allowed.status).toBe(302);
    expect(new URL(allowed.headers.get('location') ?? '').searchParams.get('code')).toBeTruthy();
    const before = handle.control.listPortals().length;
    const fresh = await consentAs('new');
    expect(fresh.status).toBe(302);
    expect(handle.control.listPortals()).toHaveLength(before + 1);
  });
});
