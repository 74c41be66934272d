import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { TEST_KEYRING_VALUE } from '../helpers/test-app.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { exited, spawnNodeChild } from './fault-helpers.ts';

/**
 * the access token expires while two processes each make 10 concurrent calls for the
 * portal. Across both processes exactly one refresh reaches HubSpot's token endpoint and every
 * call succeeds, whether the app knows the token is expired (stored expiry passed: no call is
 * sent with it) or only HubSpot does (everyone gets a 401 at once).
 */

const CALLS_PER_PROCESS = 10;

const database = await createTestDatabase();
const { db } = database;
let clockOffsetMs = 0;
const env = await startHubSpotTestEnv({
  db,
  sandbox: { clock: () => Date.now() + clockOffsetMs },
});
const control = env.sandbox.control;
const childScript = fileURLToPath(new URL('./token-caller-child.ts', import.meta.url));

interface CallResult {
  ok: boolean;
  status?: number;
  id?: string;
  error?: string;
}

async function startCaller(
  portalId: string,
  dealId: string,
): Promise<{ child: ChildProcess; result: Promise<CallResult[]> }> {
  let output = '';
  let resolveResult: (value: CallResult[]) => void = () => undefined;
  const result = new Promise<CallResult[]>((resolve) => {
    resolveResult = resolve;
  });
  const child = await spawnNodeChild(childScript, {
    readyText: 'ready',
    env: {
      TOKEN_CHILD_CONFIG: JSON.stringify({
        databaseUrl: database.url,
        keyring: TEST_KEYRING_VALUE,
        hubspot: env.config.hubspot,
        portalId,
        dealId,
        calls: CALLS_PER_PROCESS,
      }),
    },
    onStdout: (text) => {
      output += text;
      const match = /result (.*)\n/.exec(output);
      if (match?.[1]) resolveResult(JSON.parse(match[1]) as CallResult[]);
    },
  });
  return { child, result };
}

/** Starts both processes, releases their calls at once, and returns every call's result. */
async function callFromTwoProcesses(portalId: string, dealId: string): Promise<CallResult[]> {
  const callers = await Promise.all([startCaller(portalId, dealId), startCaller(portalId, dealId)]);
  for (const { child } of callers) child.stdin?.write('go\n');
  const results = await Promise.all(callers.map((c) => c.result));
  for (const { child } of callers) expect(await exited(child)).toBe(0);
  return results.flat();
}

async function storedExpiry(portalId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('organization_integrations')
    .select('access_token_expires_at')
    .where('external_account_id', '=', portalId)
    .executeTakeFirstOrThrow();
  return row.access_token_expires_at;
}

describe('fault drill: token expiry with concurrent callers in two processes', () => {
  it('refreshes once when the stored expiry has passed, and sends nothing with the old token', async () => {
    const { portalId } = await env.connectPortal();
    const dealId = control.createDeal(Number(portalId), { dealname: 'Token deal' }).id;
    // HubSpot's clock and ours both past the token's 30 minutes.
    clockOffsetMs += 31 * 60_000;
    await db
      .updateTable('organization_integrations')
      .set({ access_token_expires_at: new Date(Date.now() - 60_000) })
      .where('external_account_id', '=', portalId)
      .execute();
    const tokenCallsBefore = control.tokenEndpointCalls().length;
    const logBefore = control.requestLog().length;

    const results = await callFromTwoProcesses(portalId, dealId);

    expect(results).toHaveLength(2 * CALLS_PER_PROCESS);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.every((r) => r.status === 200 && r.id === dealId)).toBe(true);
    const refreshes = control.tokenEndpointCalls().slice(tokenCallsBefore);
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]).toMatchObject({ grantType: 'refresh_token', status: 200 });
    // No call went out with the expired token.
    const calls = control
      .requestLog()
      .slice(logBefore)
      .filter((e) => e.path.startsWith('/crm/'));
    expect(calls.filter((e) => e.status === 401)).toEqual([]);
    expect((await storedExpiry(portalId))?.getTime()).toBeGreaterThan(Date.now() + 60_000);
  }, 120_000);

  it('refreshes once when only HubSpot knows the token expired (every caller gets a 401)', async () => {
    const { portalId } = await env.connectPortal();
    const dealId = control.createDeal(Number(portalId), { dealname: 'Token deal' }).id;
    // HubSpot has expired the token; our stored expiry still says it is good.
    clockOffsetMs += 31 * 60_000;
    const tokenCallsBefore = control.tokenEndpointCalls().length;
    const logBefore = control.requestLog().length;

    const results = await callFromTwoProcesses(portalId, dealId);

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.every((r) => r.status === 200 && r.id === dealId)).toBe(true);
    const refreshes = control.tokenEndpointCalls().slice(tokenCallsBefore);
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]).toMatchObject({ grantType: 'refresh_token', status: 200 });
    const calls = control
      .requestLog()
      .slice(logBefore)
      .filter((e) => e.path.startsWith('/crm/'));
    // Each call met the expired token at most once, then used the one refreshed token.
    expect(calls.filter((e) => e.status === 401).length).toBeGreaterThan(0);
    expect(calls.filter((e) => e.status === 401).length).toBeLessThanOrEqual(2 * CALLS_PER_PROCESS);
    expect(calls.filter((e) => e.status === 200).length).toBe(2 * CALLS_PER_PROCESS);
  }, 120_000);
});
