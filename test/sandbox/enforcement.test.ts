import { describe, expect, it } from 'vitest';

import { HubSpotErrorSchema, RateLimitErrorSchema } from '../../server/src/hubspot/wire/index.ts';
import { DEFAULT_RATE_LIMIT } from '../../sandbox/index.ts';
import { api, installedPortal, sandbox, testSandbox } from './helpers.ts';

const handle = await sandbox();

describe('authentication and scopes', () => {
  it('401s a missing or unknown bearer token with HubSpot’s body', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const result = await api(handle, token, 'GET', '/crm/pipelines/2026-03/deals');
      expect(result.status).toBe(401);
      expect(HubSpotErrorSchema.parse(result.body)).toMatchObject({
        status: 'error',
        category: 'INVALID_AUTHENTICATION',
      });
    }
  });

  it('403s a call whose scope was not granted', async () => {
    const { portalId, accessToken } = installedPortal(handle, ['oauth', 'crm.objects.deals.read']);
    const deal = handle.control.createDeal(portalId, { dealname: 'Scoped' });
    expect(
      (await api(handle, accessToken, 'GET', `/crm/objects/2026-03/deals/${deal.id}`)).status,
    ).toBe(200);
    const write = await api(handle, accessToken, 'PATCH', `/crm/objects/2026-03/deals/${deal.id}`, {
      properties: { dealname: 'No' },
    });
    expect(write.status).toBe(403);
    const body = HubSpotErrorSchema.parse(write.body);
    expect(body.category).toBe('MISSING_SCOPES');
    expect(body.errors?.[0]?.context).toEqual({
      requiredGranularScopes: ['crm.objects.deals.write'],
    });
    const notes = await api(handle, accessToken, 'POST', '/crm/objects/2026-03/notes/batch/read', {
      inputs: [],
    });
    expect(notes.status).toBe(403);
  });

  it('keeps portals apart: a token only reaches its own portal’s deals', async () => {
    const a = installedPortal(handle);
    const b = installedPortal(handle);
    const deal = handle.control.createDeal(a.portalId, { dealname: 'Mine' });
    expect(
      (await api(handle, b.accessToken, 'GET', `/crm/objects/2026-03/deals/${deal.id}`)).status,
    ).toBe(404);
  });
});

describe('rate limit', () => {
  it('defaults to 110 requests per rolling 10 s', () => {
    expect(DEFAULT_RATE_LIMIT).toEqual({ max: 110, windowMs: 10_000 });
  });

  it('answers the 111th call in a window with 429 TEN_SECONDLY_ROLLING, per portal, at the default limit', async () => {
    const { accessToken } = installedPortal(handle);
    const other = installedPortal(handle);
    const remaining: string[] = [];
    for (let i = 1; i <= 110; i++) {
      const result = await api(handle, accessToken, 'GET', '/crm/pipelines/2026-03/deals');
      expect(result.status).toBe(200);
      expect(result.headers.get('x-hubspot-ratelimit-max')).toBe('110');
      expect(result.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
      remaining.push(result.headers.get('x-hubspot-ratelimit-remaining') ?? '');
    }
    expect(remaining[0]).toBe('109');
    expect(remaining[109]).toBe('0');
    const limited = await api(handle, accessToken, 'GET', '/crm/pipelines/2026-03/deals');
    expect(limited.status).toBe(429);
    expect(RateLimitErrorSchema.parse(limited.body)).toMatchObject({
      status: 'error',
      category: 'RATE_LIMITS',
      policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(limited.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    expect(
      (await api(handle, other.accessToken, 'GET', '/crm/pipelines/2026-03/deals')).status,
    ).toBe(200);
    const log = handle.control.requestLog().filter((e) => e.status === 429);
    expect(log).toHaveLength(1);
  });

  it('rolls: calls leave the window as time passes', async () => {
    let now = 1_800_000_000_000;
    const small = await testSandbox({ clock: () => now, rateLimit: { max: 3, windowMs: 1000 } });
    const { accessToken } = installedPortal(small);
    const call = async () =>
      (await api(small, accessToken, 'GET', '/crm/pipelines/2026-03/deals')).status;
    expect(await call()).toBe(200);
    now += 500;
    expect([await call(), await call()]).toEqual([200, 200]);
    expect(await call()).toBe(429);
    now += 501; // the first call left the window; the other two are still in it
    expect(await call()).toBe(200);
    expect(await call()).toBe(429);
  });
});

describe('faults, limits and logs', () => {
  it('injects the next N answers for a path, then recovers', async () => {
    const { accessToken } = installedPortal(handle);
    handle.control.injectFault({ path: '^/crm/pipelines/2026-03/deals$', status: 503, count: 2 });
    handle.control.injectFault({ path: '/crm/properties/', method: 'GET', status: 429, count: 1 });
    expect((await api(handle, accessToken, 'GET', '/crm/pipelines/2026-03/deals')).status).toBe(
      503,
    );
    expect((await api(handle, accessToken, 'GET', '/crm/pipelines/2026-03/deals')).status).toBe(
      503,
    );
    expect((await api(handle, accessToken, 'GET', '/crm/pipelines/2026-03/deals')).status).toBe(
      200,
    );
    const limited = await api(handle, accessToken, 'GET', '/crm/properties/2026-03/deals');
    expect(limited.status).toBe(429);
    expect(RateLimitErrorSchema.parse(limited.body).policyName).toBe('TEN_SECONDLY_ROLLING');
    expect((await api(handle, accessToken, 'GET', '/crm/properties/2026-03/deals')).status).toBe(
      200,
    );
    const faults = handle.control.requestLog().filter((e) => e.fault === true);
    expect(faults.map((e) => e.status)).toEqual([503, 503, 429]);
  });

  it('adds latency and hangs without changing the answer', async () => {
    const small = await testSandbox();
    const { accessToken } = installedPortal(small);
    small.control.injectFault({ path: 'pipelines', latencyMs: 50, count: 1 });
    expect((await api(small, accessToken, 'GET', '/crm/pipelines/2026-03/deals')).status).toBe(200);
    small.control.injectFault({ path: 'pipelines', hangMs: 2000, count: 1 });
    await expect(
      fetch(`${small.url}/crm/pipelines/2026-03/deals`, {
        headers: { authorization: `Bearer ${accessToken}` },
        signal: AbortSignal.timeout(100),
      }),
    ).rejects.toThrow();
  });

  it('refuses oversized bodies with 413 in HubSpot’s envelope', async () => {
    const small = await testSandbox({ bodyLimitBytes: 1024 });
    const { accessToken } = installedPortal(small);
    const result = await api(
      small,
      accessToken,
      'POST',
      '/crm/objects/2026-03/deals/batch/update',
      {
        inputs: [{ id: '1', properties: { dealname: 'x'.repeat(2048) } }],
      },
    );
    expect(result.status).toBe(413);
    expect(HubSpotErrorSchema.parse(result.body).status).toBe('error');
  });

  it('answers malformed JSON and legacy paths in HubSpot’s envelope', async () => {
    const { accessToken } = installedPortal(handle);
    const response = await fetch(`${handle.url}/crm/objects/2026-03/deals/batch/read`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: '{"inputs":',
    });
    expect(response.status).toBe(400);
    expect(HubSpotErrorSchema.parse(await response.json()).status).toBe('error');
    for (const path of ['/crm/v3/objects/deals/1', '/oauth/v1/token', '/files/v3/files/1']) {
      const legacy = await api(handle, accessToken, 'GET', path);
      expect(legacy.status).toBe(404);
      expect(HubSpotErrorSchema.parse(legacy.body).message).toContain('legacy');
    }
  });

  it('logs method, path, portal, status and time; reset clears it', async () => {
    const small = await testSandbox();
    const { portalId, accessToken } = installedPortal(small);
    const since = Date.now();
    await api(small, accessToken, 'POST', '/crm/objects/2026-03/deals/batch/update', {
      inputs: [{ id: '1', properties: { dealname: 'x' } }],
    });
    const entries = small.control.requestLog({ since });
    expect(entries).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/crm/objects/2026-03/deals/batch/update',
        portalId,
        status: 207,
      }),
    ]);
    small.control.reset();
    expect(small.control.requestLog()).toEqual([]);
  });
});
