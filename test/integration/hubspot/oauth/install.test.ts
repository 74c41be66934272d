import { REPORT_PROPERTY_DEFINITIONS } from '../../../../server/src/hubspot/wire/report-properties.ts';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';

import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { createDatabase } from '../../../../server/src/platform/db/database.ts';
import { portalRequest } from '../../../../server/src/hubspot/client/portal-client.ts';
import { PortalNeedsReconnectError } from '../../../../server/src/hubspot/client/access-tokens.ts';
import { provisionPortal } from '../../../../server/src/hubspot/install/provisioning.ts';
import { OPTIONAL_SCOPES, REQUIRED_SCOPES } from '../../../../server/src/hubspot/install/scopes.ts';
import { z } from 'zod';
import { anonymousCallbackRefusals } from '../../../../server/src/hubspot/install/callback-refusals.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { WebClient } from '../../../helpers/web-client.ts';
import { hubspotPaths } from '../../../../server/src/hubspot/wire/api-versions.ts';

const database = await createTestDatabase();
const logs: string[] = [];
const logStream = new PassThrough();
logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
const env = await startHubSpotTestEnv({ db: database.db, logStream });
const { sandbox } = env;

/** Starts an install in a browser stand-in; returns the browser and HubSpot's consent URL. */
async function startInstall(client = new WebClient(env.app)) {
  const response = await client.get('/api/v1/integrations/hubspot/auth');
  expect(response.statusCode).toBe(302);
  return { client, authorizeUrl: String(response.headers.location) };
}

function callbackPath(redirectUrl: string): string {
  const url = new URL(redirectUrl);
  return `${url.pathname}${url.search}`;
}

function tokenExchanges(): number {
  return sandbox.control.tokenEndpointCalls().filter((c) => c.grantType === 'authorization_code')
    .length;
}

async function countRows(
  table: 'organization_integrations' | 'organizations' | 'audit_log',
): Promise<number> {
  const row = await database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return row.n;
}

describe('HubSpot install (OAuth)', () => {
  it('redirects to the consent page with exactly the required scopes, a state and PKCE S256', async () => {
    const { authorizeUrl } = await startInstall();
    const url = new URL(authorizeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(sandbox.authorizeUrl);
    expect(url.searchParams.get('client_id')).toBe(env.config.hubspot.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(
      `${env.baseUrl}/api/v1/integrations/hubspot/callback`,
    );
    expect(url.searchParams.get('scope')?.split(' ').sort()).toEqual([...REQUIRED_SCOPES].sort());
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('installs from the marketplace: new organization, installer signed in, tokens stored encrypted, portal provisioned', async () => {
    const { client, authorizeUrl } = await startInstall();
    const { redirectUrl, portalId } = sandbox.control.approveInstall(authorizeUrl, {
      portalId: 'new',
    });
    const callback = await client.get(callbackPath(redirectUrl));
    expect(callback.statusCode).toBe(302);
    expect(callback.headers.location).toBe('/integrations?notice=hubspot_connected');
    expect(callback.headers['referrer-policy']).toBe('no-referrer');

    const page = await client.get('/integrations');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="hubspot-status">Connected');
    expect(page.body).toContain(String(portalId));
    expect(page.body).toContain('LexiContract properties exist on deals');

    const row = await database.db
      .selectFrom('organization_integrations')
      .selectAll()
      .where('external_account_id', '=', String(portalId))
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('connected');
    expect(row.provisioning_status).toBe('done');
    // The sandbox grants the optional scopes too, as HubSpot does when the installer may.
    expect(row.granted_scopes.sort()).toEqual([...REQUIRED_SCOPES, ...OPTIONAL_SCOPES].sort());

    // The tokens HubSpot issued appear nowhere in the database or the logs in plaintext.
    const issued =
      sandbox.control.requestLog().length >= 0 ? await currentTokens(String(portalId)) : undefined;
    expect(issued).toBeDefined();
    const dump = await sql<{
      dump: string;
    }>`select string_agg(t::text, '|') as dump from organization_integrations t`.execute(
      database.db,
    );
    const everything = `${dump.rows[0]?.dump ?? ''}${logs.join('')}`;
    for (const secret of [
      issued?.accessToken ?? 'x',
      issued?.refreshToken ?? 'x',
      env.config.hubspot.clientSecret,
    ]) {
      expect(everything).not.toContain(secret);
    }
    expect(logs.join('')).not.toContain('code=');
  });

  it('refuses a replayed callback without a second token exchange', async () => {
    const { client, authorizeUrl } = await startInstall();
    const { redirectUrl } = sandbox.control.approveInstall(authorizeUrl, { portalId: 'new' });
    const first = await client.get(callbackPath(redirectUrl));
    expect(first.statusCode).toBe(302);
    const exchanges = tokenExchanges();
    const replay = await client.get(callbackPath(redirectUrl));
    expect(replay.statusCode).toBe(400);
    expect(replay.body).toContain('already used');
    expect(tokenExchanges()).toBe(exchanges);
  });

  it('refuses a callback arriving in another browser, with no exchange; an anonymous refusal is logged and counted, not audited', async () => {
    const { authorizeUrl } = await startInstall();
    const { redirectUrl } = sandbox.control.approveInstall(authorizeUrl, { portalId: 'new' });
    const exchanges = tokenExchanges();
    const integrations = await countRows('organization_integrations');
    const auditRows = await countRows('audit_log');
    const counted = anonymousCallbackRefusals()['hubspot.oauth.callback:state_other_browser'] ?? 0;
    const other = await new WebClient(env.app).get(callbackPath(redirectUrl));
    expect(other.statusCode).toBe(400);
    expect(other.body).toContain('started in another browser');
    expect(tokenExchanges()).toBe(exchanges);
    expect(await countRows('organization_integrations')).toBe(integrations);
    expect(await countRows('audit_log')).toBe(auditRows);
    expect(anonymousCallbackRefusals()['hubspot.oauth.callback:state_other_browser']).toBe(
      counted + 1,
    );
    expect(logs.join('')).toContain('state_other_browser');
  });

  it("an install started by a signed-in user and finished in another browser is audited in that user's organization", async () => {
    const owner = await env.connectPortal({ name: 'Hijack target', provision: false });
    const { authorizeUrl } = await startInstall(await signInAs(owner.organizationId));
    const { redirectUrl } = sandbox.control.approveInstall(authorizeUrl, { portalId: 'new' });
    const exchanges = tokenExchanges();
    const other = await new WebClient(env.app).get(callbackPath(redirectUrl));
    expect(other.statusCode).toBe(400);
    expect(tokenExchanges()).toBe(exchanges);
    const audit = await database.db
      .selectFrom('audit_log')
      .select(['details', 'organization_id'])
      .where('action', '=', 'hubspot.oauth.callback')
      .where('outcome', '=', 'refused')
      .where('organization_id', '=', owner.organizationId)
      .execute();
    expect(audit.map((a) => (a.details as { reason: string }).reason)).toEqual([
      'state_other_browser',
    ]);
  });

  it('keeps the PKCE verifier out of the database: only the starting browser holds it, signed', async () => {
    const { client, authorizeUrl } = await startInstall();
    const columns = await sql<{ name: string }>`
      select column_name as name from information_schema.columns where table_name = 'oauth_states'
    `.execute(database.db);
    expect(columns.rows.map((c) => c.name)).not.toContain('code_verifier');
    const verifierCookie = client.cookies.get('lxc_oauth_pkce') ?? '';
    // Signed (`value.signature`), so a changed verifier is dropped rather than sent.
    const verifier = verifierCookie.split('.')[0] ?? '';
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(
      new URL(authorizeUrl).searchParams.get('code_challenge'),
    );
    const dump = await sql<{
      dump: string | null;
    }>`select string_agg(t::text, '|') as dump from oauth_states t`.execute(database.db);
    expect(dump.rows[0]?.dump ?? '').not.toContain(verifier);
  });

  it('refuses a missing or unknown state', async () => {
    const client = new WebClient(env.app);
    const missing = await client.get('/api/v1/integrations/hubspot/callback?code=abc');
    expect(missing.statusCode).toBe(400);
    const unknown = await client.get(
      '/api/v1/integrations/hubspot/callback?code=abc&state=not-a-state-we-issued',
    );
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain('does not belong to an install started here');
  });

  it('handles access_denied: nothing stored, the user is told', async () => {
    const { client, authorizeUrl } = await startInstall();
    const integrations = await countRows('organization_integrations');
    const { redirectUrl } = sandbox.control.approveInstall(authorizeUrl, { deny: true });
    expect(new URL(redirectUrl).searchParams.get('error')).toBe('access_denied');
    const callback = await client.get(callbackPath(redirectUrl));
    expect(callback.statusCode).toBe(302);
    expect(callback.headers.location).toBe('/sign-in?notice=hubspot_access_denied');
    expect(await countRows('organization_integrations')).toBe(integrations);
  });

  it('an already used code injected into a fresh install is refused by HubSpot, and nothing changes', async () => {
    const first = await startInstall();
    const done = sandbox.control.approveInstall(first.authorizeUrl, { portalId: 'new' });
    await first.client.get(callbackPath(done.redirectUrl));
    const usedCode = new URL(done.redirectUrl).searchParams.get('code') ?? '';

    // RFC 9700 §4.5: an attacker pastes a used code into a callback carrying a fresh state.
    const fresh = await startInstall();
    const state = new URL(fresh.authorizeUrl).searchParams.get('state') ?? '';
    const integrations = await countRows('organization_integrations');
    const callback = await fresh.client.get(
      `/api/v1/integrations/hubspot/callback?code=${encodeURIComponent(usedCode)}&state=${encodeURIComponent(state)}`,
    );
    expect(callback.headers.location).toBe('/sign-in?notice=hubspot_exchange_failed');
    const refused = sandbox.control
      .tokenEndpointCalls()
      .filter((c) => c.grantType === 'authorization_code')
      .at(-1);
    expect(refused).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await countRows('organization_integrations')).toBe(integrations);
  });

  it('a token endpoint failing with 503 ends the install as exchange_failed: nothing stored, counted, not audited', async () => {
    const { client, authorizeUrl } = await startInstall();
    const { redirectUrl } = sandbox.control.approveInstall(authorizeUrl, { portalId: 'new' });
    const integrations = await countRows('organization_integrations');
    const auditRows = await countRows('audit_log');
    const key = 'hubspot.oauth.exchange:http_503';
    const counted = anonymousCallbackRefusals()[key] ?? 0;
    sandbox.control.injectFault({
      method: 'POST',
      path: `^${hubspotPaths.oauthToken()}$`,
      status: 503,
    });
    try {
      const callback = await client.get(callbackPath(redirectUrl));
      expect(callback.headers.location).toBe('/sign-in?notice=hubspot_exchange_failed');
    } finally {
      sandbox.control.clearFaults();
    }
    expect(await countRows('organization_integrations')).toBe(integrations);
    expect(await countRows('audit_log')).toBe(auditRows);
    expect(anonymousCallbackRefusals()[key]).toBe(counted + 1);
  });

  it('a redirect_uri HubSpot does not have registered is refused at the consent page', async () => {
    const { authorizeUrl } = await startInstall();
    const tampered = new URL(authorizeUrl);
    tampered.searchParams.set('redirect_uri', 'https://evil.example/callback');
    const response = await fetch(tampered, { redirect: 'manual' });
    expect(response.status).toBeGreaterThanOrEqual(400);
  });

  it('refuses to move a portal that another organization holds, and changes nothing', async () => {
    const first = await startInstall();
    const installed = sandbox.control.approveInstall(first.authorizeUrl, { portalId: 'new' });
    await first.client.get(callbackPath(installed.redirectUrl));
    const owner = await database.db
      .selectFrom('organization_integrations')
      .select(['organization_id'])
      .where('external_account_id', '=', String(installed.portalId))
      .executeTakeFirstOrThrow();

    // A signed-in admin of another organization tries to connect the same portal.
    const other = await env.connectPortal({ name: 'Other org', provision: false });
    const signIn = await signInAs(other.organizationId);
    const { authorizeUrl } = await startInstall(signIn);
    const { redirectUrl } = sandbox.control.approveInstall(authorizeUrl, {
      portalId: installed.portalId,
    });
    const callback = await signIn.get(callbackPath(redirectUrl));
    expect(callback.headers.location).toBe('/integrations?notice=hubspot_portal_taken');
    const after = await database.db
      .selectFrom('organization_integrations')
      .select(['organization_id'])
      .where('external_account_id', '=', String(installed.portalId))
      .executeTakeFirstOrThrow();
    expect(after.organization_id).toBe(owner.organization_id);
  });

  it('disconnect uninstalls and wipes tokens; reconnecting restores the same organization', async () => {
    const { client, authorizeUrl } = await startInstall();
    const { redirectUrl, portalId } = sandbox.control.approveInstall(authorizeUrl, {
      portalId: 'new',
    });
    await client.get(callbackPath(redirectUrl));
    const before = await database.db
      .selectFrom('organization_integrations')
      .selectAll()
      .where('external_account_id', '=', String(portalId))
      .executeTakeFirstOrThrow();

    const page = await client.get('/integrations');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const disconnected = await client.postForm('/api/v1/integrations/hubspot/disconnect', {
      _csrf: csrf,
    });
    expect(disconnected.headers.location).toBe('/integrations?notice=hubspot_disconnected');
    const row = await database.db
      .selectFrom('organization_integrations')
      .selectAll()
      .where('id', '=', before.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('disconnected');
    expect(row.access_token_ciphertext).toBeNull();
    expect(row.refresh_token_ciphertext).toBeNull();
    const uninstall = sandbox.control
      .requestLog()
      .filter((r) => r.method === 'DELETE' && r.path === hubspotPaths.externalInstall());
    expect(uninstall.at(-1)?.status).toBeLessThan(300);

    // The marketplace install button again, from a fresh browser: same organization.
    const again = await startInstall();
    const back = sandbox.control.approveInstall(again.authorizeUrl, { portalId });
    const callback = await again.client.get(callbackPath(back.redirectUrl));
    expect(callback.headers.location).toBe('/integrations?notice=hubspot_reconnected');
    const restored = await database.db
      .selectFrom('organization_integrations')
      .selectAll()
      .where('id', '=', before.id)
      .executeTakeFirstOrThrow();
    expect(restored.status).toBe('connected');
    expect(restored.organization_id).toBe(before.organization_id);
  });

  it('provisioning twice creates nothing twice', async () => {
    const { portalId } = await env.connectPortal();
    const second = await provisionPortal(env.tokenDeps, portalId);
    expect(second).toEqual({ created: [], updated: [] });
    const creates = sandbox.control
      .requestLog()
      .filter(
        (r) =>
          r.method === 'POST' &&
          r.path.startsWith(hubspotPaths.dealProperties()) &&
          r.portalId === Number(portalId),
      );
    // The group, status, link and the report-ready properties: each created once.
    expect(creates).toHaveLength(3 + REPORT_PROPERTY_DEFINITIONS.length);
  });

  it('adding missing status options sends the portal’s own options back whole', async () => {
    const { portalId } = await env.connectPortal();
    const path = `${hubspotPaths.dealProperties()}/lexicontract_status`;
    const OptionsSchema = z.object({
      options: z.array(z.object({ value: z.string() }).loose()),
    });
    // A portal admin replaced our options with one of their own, described.
    const own = {
      label: 'Legacy',
      value: 'legacy',
      displayOrder: 0,
      hidden: false,
      description: 'Kept by the customer',
    };
    await portalRequest(
      env.tokenDeps,
      portalId,
      { method: 'PATCH', path, json: { options: [own] } },
      z.unknown(),
    );
    const result = await provisionPortal(env.tokenDeps, portalId);
    expect(result.updated).toEqual(['property:lexicontract_status']);
    const { body } = await portalRequest(
      env.tokenDeps,
      portalId,
      { method: 'GET', path },
      OptionsSchema,
    );
    // PATCH replaces the whole list, so whatever the app drops from an option is lost.
    expect(body.options[0]).toEqual(own);
    expect(body.options).toHaveLength(10);
  });
});

describe('access tokens in use', () => {
  it('20 concurrent calls around expiry across two app instances refresh exactly once', async () => {
    const { portalId } = await env.connectPortal({ provision: false });
    await database.db
      .updateTable('organization_integrations')
      .set({ access_token_expires_at: new Date(Date.now() + 30_000) })
      .where('external_account_id', '=', portalId)
      .execute();
    const secondInstance = createDatabase(database.url, { maxConnections: 10 });
    const refreshesBefore = sandbox.control
      .tokenEndpointCalls()
      .filter((c) => c.grantType === 'refresh_token').length;
    const call = (db: typeof database.db) =>
      portalRequest(
        { ...env.tokenDeps, db },
        portalId,
        { method: 'GET', path: hubspotPaths.dealPipelines() },
        z.object({ results: z.array(z.unknown()) }),
      );
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => call(database.db)),
      ...Array.from({ length: 10 }, () => call(secondInstance.db)),
    ]);
    await secondInstance.destroy();
    expect(results).toHaveLength(20);
    const refreshes = sandbox.control
      .tokenEndpointCalls()
      .filter((c) => c.grantType === 'refresh_token').length;
    expect(refreshes - refreshesBefore).toBe(1);
    const unauthorized = sandbox.control
      .requestLog()
      .filter((r) => r.portalId === Number(portalId) && r.status === 401);
    expect(unauthorized).toHaveLength(0);
  });

  it('invalid_grant marks the connection needs_reconnect, with an audit row and no retry loop', async () => {
    const { portalId, organizationId } = await env.connectPortal({ provision: false });
    sandbox.control.revokePortal(Number(portalId));
    await database.db
      .updateTable('organization_integrations')
      .set({ access_token_expires_at: new Date(Date.now() - 1000) })
      .where('external_account_id', '=', portalId)
      .execute();
    const before = sandbox.control.tokenEndpointCalls().length;
    const attempt = () =>
      portalRequest(
        env.tokenDeps,
        portalId,
        { method: 'GET', path: hubspotPaths.dealPipelines() },
        z.unknown(),
      );
    await expect(attempt()).rejects.toBeInstanceOf(PortalNeedsReconnectError);
    await expect(attempt()).rejects.toBeInstanceOf(PortalNeedsReconnectError);
    // One refresh attempt in all: the second call is refused without asking HubSpot.
    expect(sandbox.control.tokenEndpointCalls().length - before).toBe(1);
    const row = await database.db
      .selectFrom('organization_integrations')
      .selectAll()
      .where('external_account_id', '=', portalId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('needs_reconnect');
    const audit = await database.db
      .selectFrom('audit_log')
      .select(['action', 'outcome'])
      .where('organization_id', '=', organizationId)
      .where('action', '=', 'hubspot.token.refresh')
      .execute();
    expect(audit).toEqual([{ action: 'hubspot.token.refresh', outcome: 'failure' }]);
  });
});

async function currentTokens(portalId: string) {
  const { readIntegrationTokens, findIntegrationByExternalAccount } =
    await import('../../../../server/src/core/integrations/organization-integrations.ts');
  const row = await findIntegrationByExternalAccount(database.db, 'hubspot', portalId);
  if (!row) return undefined;
  return readIntegrationTokens(database.db, env.config.tokenEncryptionKeys, row);
}

async function signInAs(organizationId: string): Promise<WebClient> {
  const { createSignInLink } = await import('../../../../server/src/core/auth/sign-in-links.ts');
  const link = await createSignInLink(
    database.db,
    { publicBaseUrl: env.baseUrl },
    { organizationId, email: 'admin@other.test' },
  );
  const client = new WebClient(env.app);
  await client.postForm('/sign-in/link', {
    token: new URL(link.url).searchParams.get('token') ?? '',
  });
  return client;
}
