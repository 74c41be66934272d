import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { DEMO_PORTAL_ID, SANDBOX_STAGE_IDS } from '../../sandbox/index.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { exited, findFreePortPair } from './fault-helpers.ts';

/**
 * Issue 18, item 7: `npm start` twice on the same data directory (the real process, sandbox
 * mode, its own embedded Postgres). Before the restart the app is connected to the sandbox's
 * demo portal through the consent page and a deal went to Legal Review (imported, its status
 * written back). After Ctrl-C (exit 0, no error line) and a second start, the sandbox serves
 * the same portals, deals and statuses, the app still shows HubSpot Connected to the same
 * browser, and its tokens still work: a second deal sent to Legal Review is imported and
 * written back. The exit bound is for liveness, not speed (as in `stop.drill.ts`).
 */

const EXIT_BOUND_MS = 15_000;
const mainScript = fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));
const workDir = await mkdtemp(path.join(os.tmpdir(), 'lexicontract-restart-drill-'));
const dataDir = path.join(workDir, '.data', 'postgres');
const started = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGKILL');
    }
  }
  for (const pid of await postgresPidsFor(dataDir)) process.kill(pid, 'SIGKILL');
  const realDataDir = await realpath(dataDir).catch(() => undefined);
  if (realDataDir !== undefined) await rm(realDataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

async function postgresPidsFor(symlinkedDir: string): Promise<number[]> {
  const dir = await realpath(symlinkedDir).catch(() => symlinkedDir);
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    const at = args.indexOf('-D');
    if (at >= 0 && args[at + 1] === dir) pids.push(Number(entry));
  }
  return pids;
}

interface Running {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly ready: Promise<boolean>;
}

function startApp(port: number): Running {
  const child = spawn(process.execPath, [mainScript], {
    cwd: workDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
  });
  started.add(child);
  const lines: string[] = [];
  let partial = '';
  const ready = new Promise<boolean>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const split = (partial + chunk.toString()).split('\n');
      partial = split.pop() ?? '';
      lines.push(...split);
      if (split.some((line) => line.includes('LexiContract for HubSpot is running'))) resolve(true);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      lines.push(...chunk.toString().split('\n'));
    });
    child.once('exit', () => {
      resolve(false);
    });
  });
  return { child, lines, ready };
}

async function stop(app: Running): Promise<void> {
  process.kill(-(app.child.pid ?? 0), 'SIGINT');
  const code = await Promise.race([
    exited(app.child),
    sleep(EXIT_BOUND_MS).then(() => 'running' as const),
  ]);
  expect(code, app.lines.slice(-20).join('\n')).toBe(0);
  const errors = app.lines.filter(
    (line) => line.startsWith('{') && ((JSON.parse(line) as { level?: number }).level ?? 0) >= 50,
  );
  expect(errors).toEqual([]);
}

/** A browser's cookies, enough for the app's session and install cookies. */
class Browser {
  private readonly cookies = new Map<string, string>();

  async get(url: string): Promise<Response> {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const header of response.headers.getSetCookie()) {
      const pair = header.split(';')[0] ?? '';
      const at = pair.indexOf('=');
      if (at > 0) this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  }
}

async function control(sandboxUrl: string, method: string, route: string, body?: unknown) {
  const response = await fetch(`${sandboxUrl}/_sandbox${route}`, {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
  expect(response.status, `${method} ${route}`).toBeLessThan(300);
  return (await response.json()) as Record<string, unknown>;
}

/** What the sandbox serves a person: its home page and every demo deal with all properties. */
async function whatTheSandboxShows(sandboxUrl: string) {
  const home = await (await fetch(`${sandboxUrl}/`)).text();
  const portals = (await control(sandboxUrl, 'GET', '/portals')).results;
  const dealIds = [...home.matchAll(/href="\/deals\/\d+\/(\d+)"/g)].map((m) => m[1] ?? '');
  const deals = [];
  for (const id of dealIds) {
    deals.push(await control(sandboxUrl, 'GET', `/portals/${String(DEMO_PORTAL_ID)}/deals/${id}`));
  }
  return { home, portals, deals };
}

async function dealStatus(sandboxUrl: string, dealId: string): Promise<unknown> {
  const deal = await control(
    sandboxUrl,
    'GET',
    `/portals/${String(DEMO_PORTAL_ID)}/deals/${dealId}`,
  );
  return (deal.properties as Record<string, unknown>).lexicontract_status;
}

async function sendToLegalReview(sandboxUrl: string, dealId: string): Promise<void> {
  await control(sandboxUrl, 'POST', `/portals/${String(DEMO_PORTAL_ID)}/deals/${dealId}/stage`, {
    stageId: SANDBOX_STAGE_IDS.legalReview,
  });
  await waitFor(async () => (await dealStatus(sandboxUrl, dealId)) === 'pending_review', {
    timeoutMs: 60_000,
    intervalMs: 250,
    what: `deal ${dealId} imported and its status written`,
  });
}

describe('fault drill: npm start, Ctrl-C, npm start again', () => {
  it('the second start shows the same sandbox deals, statuses and connection', async () => {
    const port = await findFreePortPair();
    const appUrl = `http://127.0.0.1:${String(port)}`;
    const sandboxUrl = `http://127.0.0.1:${String(port + 1)}`;
    const first = startApp(port);
    expect(await first.ready, first.lines.slice(-20).join('\n')).toBe(true);

    // Connect through the consent page, as a person does, into the demo portal.
    const browser = new Browser();
    const auth = await browser.get(`${appUrl}/api/v1/integrations/hubspot/auth`);
    expect(auth.status).toBe(302);
    const approved = await control(sandboxUrl, 'POST', '/approve-install', {
      authorizeUrl: auth.headers.get('location'),
      portalId: DEMO_PORTAL_ID,
    });
    const callback = await browser.get(String(approved.redirectUrl));
    expect(callback.headers.get('location')).toBe('/integrations?notice=hubspot_connected');
    const connected = await (await browser.get(`${appUrl}/integrations`)).text();
    expect(connected).toContain('data-testid="hubspot-status">Connected');

    const deals = [
      ...(await whatTheSandboxShows(sandboxUrl)).home.matchAll(/href="\/deals\/\d+\/(\d+)"/g),
    ].map((m) => m[1] ?? '');
    expect(deals.length).toBeGreaterThanOrEqual(2);
    const [firstDeal, secondDeal] = deals;
    if (!firstDeal || !secondDeal) throw new Error('two demo deals expected');
    await sendToLegalReview(sandboxUrl, firstDeal);
    const before = await whatTheSandboxShows(sandboxUrl);
    expect(before.home).toContain('app installed');
    await stop(first);

    const second = startApp(port);
    expect(await second.ready, second.lines.slice(-20).join('\n')).toBe(true);
    expect(await whatTheSandboxShows(sandboxUrl)).toEqual(before);
    const still = await (await browser.get(`${appUrl}/integrations`)).text();
    expect(still).toContain('data-testid="hubspot-status">Connected');
    // The stored tokens still work against the restarted sandbox.
    await sendToLegalReview(sandboxUrl, secondDeal);
    expect(await dealStatus(sandboxUrl, firstDeal)).toBe('pending_review');
    await stop(second);
  }, 300_000);
});
