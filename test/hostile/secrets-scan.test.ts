import { PassThrough } from 'node:stream';

import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import {
  findIntegrationByExternalAccount,
  readIntegrationTokens,
} from '../../server/src/core/integrations/organization-integrations.ts';
import { createApiKey } from '../../server/src/core/organizations/api-keys.ts';
import { SANDBOX_STAGE_IDS } from '../../sandbox/index.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { WebClient } from '../helpers/web-client.ts';
import { fetchQuery, send, signedRequest, signerOf, webhookBatch } from './hubspot-requests.ts';

/**
 * S-4 / S-9: after install, import, sync, card and webhooks (and a few failures), no access
 * token, refresh token or client secret appears in plaintext in any table, pg-boss's jobs,
 * the logs (production redaction) or any response body.
 */
const database = await createTestDatabase();
const logs: string[] = [];
const logStream = new PassThrough();
logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
const env = await startHubSpotTestEnv({ db: database.db, logStream });
const { sandbox } = env;
const signer = signerOf(env);
const bodies: string[] = [];

function seen(body: string, headers: Record<string, unknown> = {}): void {
  bodies.push(body, JSON.stringify(headers));
}

const secrets = new Set<string>([env.config.hubspot.clientSecret]);
async function collectTokens(portalId: string): Promise<void> {
  const row = await findIntegrationByExternalAccount(database.db, 'hubspot', portalId);
  if (!row?.access_token_ciphertext) return;
  const tokens = await readIntegrationTokens(database.db, env.config.tokenEncryptionKeys, row);
  secrets.add(tokens.accessToken);
  secrets.add(tokens.refreshToken);
}

async function dumpEverything(): Promise<string> {
  const tables = await sql<{ schema: string; name: string }>`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
  `.execute(database.db);
  const parts: string[] = [];
  for (const { schema, name } of tables.rows) {
    const rows = await sql<{
      row: string;
    }>`select t::text as row from ${sql.table(`${schema}.${name}`)} t`.execute(database.db);
    parts.push(`${schema}.${name}:`, ...rows.rows.map((r) => r.row));
  }
  expect(tables.rows.some((t) => t.name === 'job' && t.schema !== 'public')).toBe(true);
  return parts.join('\n');
}

describe('secrets scan after a full run', () => {
  it('finds no plaintext token or client secret in the database, the logs or any response', async () => {
    await env.startWorkers();
    // Install through the real OAuth flow.
    const browser = new WebClient(env.app);
    const start = await browser.get('/api/v1/integrations/hubspot/auth');
    seen(start.body, start.headers);
    const approved = sandbox.control.approveInstall(String(start.headers.location), {
      portalId: 'new',
    });
    const redirect = new URL(approved.redirectUrl);
    const callback = await browser.get(`${redirect.pathname}${redirect.search}`);
    seen(callback.body, callback.headers);
    expect(callback.headers.location).toBe('/integrations?notice=hubspot_connected');
    const portalId = String(approved.portalId);
    const portal = Number(portalId);
    await collectTokens(portalId);
    // A second portal installed directly, later revoked (refresh fails, needs reconnect).
    const other = await env.connectPortal({ name: 'Revoked' });
    await collectTokens(other.portalId);

    // Import through the workflow action, and through the card.
    const dealA = sandbox.control.createDeal(portal, {
      dealname: 'Secrets deal A',
      amount: '100',
    }).id;
    sandbox.control.attachNoteWithFiles(portal, dealA, [{ name: 'msa.pdf', text: 'MSA' }]);
    const moved = await sandbox.control.moveDealToStage(
      portal,
      dealA,
      SANDBOX_STAGE_IDS.legalReview,
    );
    seen(JSON.stringify(moved.workflowAction?.body ?? null));
    const dealB = sandbox.control.createDeal(portal, { dealname: 'Secrets deal B' }).id;
    sandbox.control.attachNoteWithFiles(portal, dealB, [{ name: 'nda.pdf', text: 'NDA' }]);
    const card = await sandbox.control.signedCardFetch({
      portalId: portal,
      userId: 1,
      userEmail: 'u@example.com',
      method: 'GET',
      url: `${env.baseUrl}/api/v1/integrations/hubspot/card?dealId=${dealB}`,
    });
    seen(JSON.stringify(card.body), card.headers);
    const sent = await sandbox.control.signedCardFetch({
      portalId: portal,
      userId: 1,
      userEmail: 'u@example.com',
      method: 'POST',
      url: `${env.baseUrl}/api/v1/integrations/hubspot/card/send`,
      body: { dealId: dealB, requestId: crypto.randomUUID() },
    });
    seen(JSON.stringify(sent.body), sent.headers);
    expect(sent.status).toBe(200);
    const contracts = await waitFor(
      async () => {
        const rows = await database.db
          .selectFrom('contracts')
          .select(['id', 'organization_id', 'import_state'])
          .where('external_account_id', '=', portalId)
          .execute();
        return rows.length === 2 && rows.every((r) => r.import_state === 'complete') && rows;
      },
      { timeoutMs: 30_000, what: 'both imports complete' },
    );

    // A status change syncs to the deal; a user's stage change comes back as a webhook.
    const first = contracts[0];
    if (!first) throw new Error('no contract');
    const key = await createApiKey(database.db, first.organization_id, 'scan');
    const patched = await env.app.inject({
      method: 'PATCH',
      url: `/api/v1/contracts/${first.id}`,
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ negotiation_status: 'in_review' }),
    });
    seen(patched.body, patched.headers);
    expect(patched.statusCode).toBe(200);
    await waitFor(
      () =>
        [dealA, dealB].some(
          (id) =>
            sandbox.control.getDeal(portal, id)?.properties.lexicontract_status === 'in_review',
        ),
      { timeoutMs: 30_000, what: 'the status written to the deal' },
    );
    sandbox.control.editDealAsUser(portal, dealA, { dealstage: SANDBOX_STAGE_IDS.closedLost });
    await sandbox.control.webhooksIdle();
    const delivered = await send(
      env.app,
      signedRequest(signer, {
        name: 'events',
        method: 'POST',
        path: '/events',
        policy: 'v3-or-v1',
        scheme: 'v3+v1',
        bodyLimit: 1024 * 1024,
        body: webhookBatch({ portalId: portal, appId: env.config.hubspot.appId, dealId: dealA }),
      }),
    );
    seen(delivered.body, delivered.headers);

    // Settings, failures: a forced refresh, a revoked portal, bad signatures, a bad callback.
    await database.db
      .updateTable('organization_integrations')
      .set({ access_token_expires_at: new Date(Date.now() - 1000) })
      .where('external_account_id', '=', portalId)
      .execute();
    const query = fetchQuery({ portalId, appId: env.config.hubspot.appId });
    for (const endpoint of [
      {
        name: 's',
        method: 'GET' as const,
        path: '/settings',
        policy: 'v3' as const,
        scheme: 'v3' as const,
        bodyLimit: 16384,
        query,
      },
      {
        name: 'c',
        method: 'GET' as const,
        path: '/card',
        policy: 'v3' as const,
        scheme: 'v3' as const,
        bodyLimit: 65536,
        query: { dealId: dealA, ...query },
      },
    ]) {
      const ok = await send(env.app, signedRequest(signer, endpoint));
      seen(ok.body, ok.headers);
      const bad = await send(env.app, signedRequest(signer, endpoint, { clientSecret: 'wrong' }));
      seen(bad.body, bad.headers);
      expect(bad.statusCode).toBe(401);
    }
    await collectTokens(portalId);
    sandbox.control.revokePortal(Number(other.portalId));
    await database.db
      .updateTable('organization_integrations')
      .set({ access_token_expires_at: new Date(Date.now() - 1000) })
      .where('external_account_id', '=', other.portalId)
      .execute();
    const revoked = await send(
      env.app,
      signedRequest(signer, {
        name: 'c',
        method: 'GET',
        path: '/settings',
        policy: 'v3',
        scheme: 'v3',
        bodyLimit: 16384,
        query: fetchQuery({ portalId: other.portalId, appId: env.config.hubspot.appId }),
      }),
    );
    seen(revoked.body, revoked.headers);
    const otherDeal = sandbox.control.createDeal(Number(other.portalId), { dealname: 'x' }).id;
    const revokedCard = await sandbox.control.signedCardFetch({
      portalId: Number(other.portalId),
      userId: 1,
      userEmail: 'u@example.com',
      method: 'GET',
      url: `${env.baseUrl}/api/v1/integrations/hubspot/card?dealId=${otherDeal}`,
    });
    seen(JSON.stringify(revokedCard.body), revokedCard.headers);
    const badCallback = await browser.get(
      `/api/v1/integrations/hubspot/callback?code=${encodeURIComponent('x')}&state=nope`,
    );
    seen(badCallback.body, badCallback.headers);
    await sandbox.control.webhooksIdle();
    // The forced refresh issued a new access token (HubSpot keeps the refresh token): the
    // client secret, two portals' first pairs and the refreshed access token are searched for.
    expect(secrets.size).toBeGreaterThanOrEqual(6);

    const haystacks = {
      database: await dumpEverything(),
      logs: logs.join(''),
      responses: bodies.join('\n'),
    };
    expect(haystacks.logs.length).toBeGreaterThan(1000);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secrets) {
        expect(text.includes(secret), `${where} contains a secret (${secret.slice(0, 4)}…)`).toBe(
          false,
        );
        expect(
          text.includes(encodeURIComponent(secret)),
          `${where} contains a URL-encoded secret`,
        ).toBe(false);
      }
    }
  });
});
