import { describe, expect, it } from 'vitest';

import {
  AccessTokenInfoSchema,
  HubSpotErrorSchema,
  OAuthErrorSchema,
  RefreshTokenInfoSchema,
  TokenResponseSchema,
} from '../../server/src/hubspot/wire/index.ts';
import type { SandboxHandle } from '../../sandbox/index.ts';
import { APP_SCOPES, REDIRECT_URI, api, pkcePair, postForm, sandbox } from './helpers.ts';

let clock = Date.now();
const handle = await sandbox({ clock: () => clock, accessTokenTtlSeconds: 60 });

function authorizeUrl(h: SandboxHandle, params: Record<string, string> = {}): string {
  const url = new URL(h.authorizeUrl);
  url.search = new URLSearchParams({
    client_id: h.app.clientId,
    redirect_uri: REDIRECT_URI,
    scope: APP_SCOPES.join(' '),
    state: 'st-123',
    ...params,
  }).toString();
  return url.toString();
}

/** Walks the consent page like a browser: GET the page, POST the form. */
async function consent(url: string, decision: 'approve' | 'deny', portal: string): Promise<URL> {
  const page = await fetch(url);
  expect(page.status).toBe(200);
  const html = await page.text();
  const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
  expect(requestId).toBeDefined();
  const response = await fetch(`${handle.url}/oauth/authorize/decision`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      request_id: requestId ?? '',
      portal_id: portal,
      decision,
    }).toString(),
  });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') ?? '');
}

async function exchange(code: string, verifier?: string, redirectUri = REDIRECT_URI) {
  return postForm(handle, '/oauth/2026-03/token', {
    grant_type: 'authorization_code',
    client_id: handle.app.clientId,
    client_secret: handle.app.clientSecret,
    redirect_uri: redirectUri,
    code,
    ...(verifier !== undefined ? { code_verifier: verifier } : {}),
  });
}

describe('authorize and consent', () => {
  it('shows the app, the scopes and the portals, then redirects back with code and state', async () => {
    const { portalId } = handle.control.createPortal({ name: 'Consent Co' });
    const page = await (await fetch(authorizeUrl(handle))).text();
    expect(page).toContain('LexiContract test');
    expect(page).toContain('crm.objects.deals.write');
    expect(page).toContain(`value="${portalId}"`);
    expect(page).toContain('Create a test portal');
    expect(page).toMatch(/Approve/);
    expect(page).toMatch(/Deny/);
    const back = await consent(authorizeUrl(handle), 'approve', String(portalId));
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get('state')).toBe('st-123');
    expect(back.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('redirects with error=access_denied on Deny', async () => {
    const back = await consent(authorizeUrl(handle, { state: 'deny-me' }), 'deny', 'new');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('deny-me');
    expect(back.searchParams.has('code')).toBe(false);
  });

  it('refuses an unknown client, a foreign redirect_uri, undeclared or missing scopes, plain PKCE', async () => {
    const bad: Record<string, string>[] = [
      { client_id: 'nope' },
      { redirect_uri: 'https://evil.example/callback' },
      { scope: `${APP_SCOPES.join(' ')} crm.objects.contacts.write` },
      { scope: 'oauth crm.objects.deals.read' },
      { code_challenge: pkcePair().challenge, code_challenge_method: 'plain' },
    ];
    for (const params of bad) {
      const response = await fetch(authorizeUrl(handle, params));
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("Couldn't install");
    }
  });
});

describe('token endpoint', () => {
  it('exchanges a code with PKCE for tokens that call the API, once', async () => {
    const { verifier, challenge } = pkcePair();
    const { redirectUrl, portalId } = handle.control.approveInstall(
      authorizeUrl(handle, { code_challenge: challenge, code_challenge_method: 'S256' }),
      { portalId: 'new' },
    );
    const code = new URL(redirectUrl).searchParams.get('code') ?? '';
    const result = await exchange(code, verifier);
    expect(result.status).toBe(200);
    const tokens = TokenResponseSchema.parse(result.body);
    expect(result.body).toMatchObject({
      token_type: 'bearer',
      expires_in: 60,
      hub_id: portalId,
      scopes: APP_SCOPES,
    });
    if (portalId === undefined) throw new Error('approveInstall named no portal');
    const deal = handle.control.createDeal(portalId, { dealname: 'Token deal' });
    expect(
      (await api(handle, tokens.access_token, 'GET', `/crm/objects/2026-03/deals/${deal.id}`))
        .status,
    ).toBe(200);

    // Reuse: refused, and everything the code issued is revoked (RFC 6749 §4.1.2).
    const reuse = await exchange(code, verifier);
    expect(reuse.status).toBe(400);
    expect(OAuthErrorSchema.parse(reuse.body)).toMatchObject({
      error: 'invalid_grant',
      status: 'BAD_AUTH_CODE',
    });
    // HubSpot's `Error` fields (spec oauth/2026-03) beside the RFC 6749 ones.
    const hubspotError = reuse.body as Record<string, unknown>;
    expect(hubspotError.category).toBe('VALIDATION_ERROR');
    expect(String(hubspotError.correlationId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof hubspotError.message).toBe('string');
    expect(
      (await api(handle, tokens.access_token, 'GET', `/crm/objects/2026-03/deals/${deal.id}`))
        .status,
    ).toBe(401);
    const refresh = await postForm(handle, '/oauth/2026-03/token', {
      grant_type: 'refresh_token',
      client_id: handle.app.clientId,
      client_secret: handle.app.clientSecret,
      refresh_token: tokens.refresh_token,
    });
    expect(OAuthErrorSchema.parse(refresh.body).error).toBe('invalid_grant');
  });

  it('refuses a wrong or missing PKCE verifier and a different redirect_uri', async () => {
    const { challenge } = pkcePair();
    const codeFor = () =>
      new URL(
        handle.control.approveInstall(
          authorizeUrl(handle, { code_challenge: challenge, code_challenge_method: 'S256' }),
        ).redirectUrl,
      ).searchParams.get('code') ?? '';
    const code = codeFor();
    for (const attempt of [
      exchange(code, pkcePair().verifier),
      exchange(code),
      exchange(code, undefined, `${REDIRECT_URI}/x`),
    ]) {
      const result = await attempt;
      expect(result.status).toBe(400);
      expect(OAuthErrorSchema.parse(result.body).error).toBe('invalid_grant');
    }
  });

  it('refuses an expired code', async () => {
    const code =
      new URL(handle.control.approveInstall(authorizeUrl(handle)).redirectUrl).searchParams.get(
        'code',
      ) ?? '';
    clock += 301_000;
    const result = await exchange(code);
    expect(OAuthErrorSchema.parse(result.body)).toMatchObject({ error: 'invalid_grant' });
  });

  it('accepts only form bodies: JSON or query parameters get 400 invalid_request', async () => {
    const json = await fetch(`${handle.url}/oauth/2026-03/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', client_id: handle.app.clientId }),
    });
    expect(json.status).toBe(400);
    expect(OAuthErrorSchema.parse(await json.json()).error).toBe('invalid_request');
    const query = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: handle.app.clientId,
      client_secret: handle.app.clientSecret,
      refresh_token: 'x',
    });
    const viaQuery = await fetch(`${handle.url}/oauth/2026-03/token?${query.toString()}`, {
      method: 'POST',
    });
    expect(viaQuery.status).toBe(400);
    expect(OAuthErrorSchema.parse(await viaQuery.json()).error).toBe('invalid_request');
    const badGrant = await postForm(handle, '/oauth/2026-03/token', { grant_type: 'password' });
    expect(OAuthErrorSchema.parse(badGrant.body).error).toBe('unsupported_grant_type');
  });

  it('refuses wrong client credentials with invalid_client', async () => {
    const result = await postForm(handle, '/oauth/2026-03/token', {
      grant_type: 'refresh_token',
      client_id: handle.app.clientId,
      client_secret: 'wrong',
      refresh_token: 'whatever',
    });
    expect(result.status).toBe(401);
    expect(OAuthErrorSchema.parse(result.body).error).toBe('invalid_client');
  });

  it('refreshes, expires access tokens with HubSpot 401 body, and records token calls', async () => {
    const { portalId } = handle.control.createPortal();
    const tokens = handle.control.installApp(portalId, { scopes: APP_SCOPES });
    const before = handle.control.tokenEndpointCalls().length;
    clock += 61_000;
    const expired = await api(handle, tokens.access_token, 'GET', '/crm/pipelines/2026-03/deals');
    expect(expired.status).toBe(401);
    expect(HubSpotErrorSchema.parse(expired.body)).toMatchObject({
      status: 'error',
      category: 'EXPIRED_AUTHENTICATION',
    });
    const refreshed = await postForm(handle, '/oauth/2026-03/token', {
      grant_type: 'refresh_token',
      client_id: handle.app.clientId,
      client_secret: handle.app.clientSecret,
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    const next = TokenResponseSchema.parse(refreshed.body);
    expect(next.access_token).not.toBe(tokens.access_token);
    expect(next.hub_id).toBe(portalId);
    expect(
      (await api(handle, next.access_token, 'GET', '/crm/pipelines/2026-03/deals')).status,
    ).toBe(200);
    const calls = handle.control.tokenEndpointCalls().slice(before);
    expect(calls).toEqual([
      expect.objectContaining({ grantType: 'refresh_token', status: 200, portalId }),
    ]);
  });
});

describe('introspect, revoke, uninstall', () => {
  it('introspects access and refresh tokens with the installing user and domain', async () => {
    const { portalId } = handle.control.createPortal({ domain: 'introspect.example.test' });
    const tokens = handle.control.installApp(portalId, { scopes: APP_SCOPES });
    const creds = { client_id: handle.app.clientId, client_secret: handle.app.clientSecret };
    const access = await postForm(handle, '/oauth/2026-03/token/introspect', {
      ...creds,
      token: tokens.access_token,
    });
    AccessTokenInfoSchema.parse(access.body);
    expect(access.body).toMatchObject({
      active: true,
      hub_id: portalId,
      hub_domain: 'introspect.example.test',
      user: 'admin@introspect.example.test',
      user_id: tokens.user_id,
      app_id: 4242001,
    });
    const refresh = await postForm(handle, '/oauth/2026-03/token/introspect', {
      ...creds,
      token: tokens.refresh_token,
      token_type_hint: 'refresh_token',
    });
    RefreshTokenInfoSchema.parse(refresh.body);
    expect(refresh.body).toMatchObject({
      active: true,
      hub_id: portalId,
    });
    const unknown = await postForm(handle, '/oauth/2026-03/token/introspect', {
      ...creds,
      token: 'nope',
    });
    expect(unknown.body).toEqual({ active: false });
  });

  it('revoke ends the refresh token but not the issued access token', async () => {
    const { portalId } = handle.control.createPortal();
    const tokens = handle.control.installApp(portalId, { scopes: APP_SCOPES });
    const creds = { client_id: handle.app.clientId, client_secret: handle.app.clientSecret };
    expect(
      (
        await postForm(handle, '/oauth/2026-03/token/revoke', {
          ...creds,
          token: tokens.refresh_token,
        })
      ).status,
    ).toBe(200);
    const refresh = await postForm(handle, '/oauth/2026-03/token', {
      grant_type: 'refresh_token',
      ...creds,
      refresh_token: tokens.refresh_token,
    });
    expect(OAuthErrorSchema.parse(refresh.body)).toMatchObject({
      error: 'invalid_grant',
      status: 'BAD_REFRESH_TOKEN',
    });
    expect(
      (await api(handle, tokens.access_token, 'GET', '/crm/pipelines/2026-03/deals')).status,
    ).toBe(200);
  });

  it('external-install DELETE uninstalls: 401 on the API, invalid_grant on refresh', async () => {
    const { portalId } = handle.control.createPortal();
    const tokens = handle.control.installApp(portalId, { scopes: APP_SCOPES });
    const uninstall = await api(
      handle,
      tokens.access_token,
      'DELETE',
      '/appinstalls/2026-03/external-install',
    );
    expect(uninstall.status).toBe(204);
    expect(handle.control.listPortals().find((p) => p.portalId === portalId)?.installed).toBe(
      false,
    );
    expect(
      (await api(handle, tokens.access_token, 'GET', '/crm/pipelines/2026-03/deals')).status,
    ).toBe(401);
    const refresh = await postForm(handle, '/oauth/2026-03/token', {
      grant_type: 'refresh_token',
      client_id: handle.app.clientId,
      client_secret: handle.app.clientSecret,
      refresh_token: tokens.refresh_token,
    });
    expect(OAuthErrorSchema.parse(refresh.body).error).toBe('invalid_grant');
  });

  it('revokePortal behaves like an uninstall', async () => {
    const { portalId } = handle.control.createPortal();
    const tokens = handle.control.installApp(portalId, { scopes: APP_SCOPES });
    handle.control.revokePortal(portalId);
    expect(
      (await api(handle, tokens.access_token, 'GET', '/crm/pipelines/2026-03/deals')).status,
    ).toBe(401);
  });
});
