import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { exited, findFreePortPair } from './fault-helpers.ts';

/**
 * Issue 18, item 1: stopping the real process (`node server/src/main.ts`, sandbox mode, its
 * own embedded Postgres in a temp data dir) as a terminal does. Ctrl-C (SIGINT to the whole
 * process group) ends it with exit 0, no error line and no Postgres left running; a start
 * that fails (port in use) stops the Postgres it had started; a Postgres orphaned by a
 * SIGKILLed process is stopped by the next start rather than attached to for ever.
 *
 * The bound is for liveness (it stops at all, not hanging until the 20 s hard exit), not
 * speed.
 */

const EXIT_BOUND_MS = 15_000;
const mainScript = fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));
const workDir = await mkdtemp(path.join(os.tmpdir(), 'lexicontract-stop-drill-'));
const dataDir = path.join(workDir, '.data', 'postgres');
const started = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGKILL');
    }
  }
  for (const pid of await postgresPidsFor(dataDir)) process.kill(pid, 'SIGKILL');
  // As root with a private temp dir, the data lives elsewhere (embedded.ts): remove it too.
  const realDataDir = await realpath(dataDir).catch(() => undefined);
  if (realDataDir !== undefined) await rm(realDataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

interface Running {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly ready: Promise<boolean>;
}

/** Starts the app in its own process group (as a shell runs a foreground job). */
function startApp(port: number): Running {
  const child = spawn(process.execPath, [mainScript], {
    cwd: workDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Sandbox mode on the embedded Postgres: no DATABASE_URL, no HubSpot credentials.
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
      if (split.some((line) => line.includes('LexiContract for HubSpot is running'))) {
        resolve(true);
      }
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

function exitWithin(
  child: ChildProcess,
  ms: number,
): Promise<number | NodeJS.Signals | null | 'running'> {
  return Promise.race([exited(child), sleep(ms).then(() => 'running' as const)]);
}

/** pino lines at error level (50) or above. */
function errorLines(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    if (!line.startsWith('{')) return false;
    return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 50;
  });
}

/**
 * Live postmasters started with `-D <dir>` (the real path: as root, when the `postgres` user
 * cannot reach the temp dir, the data lives behind a symlink), found through /proc.
 */
async function postgresPidsFor(symlinkedDir: string): Promise<number[]> {
  const dir = await realpath(symlinkedDir).catch(() => symlinkedDir);
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    const at = args.indexOf('-D');
    if (at >= 0 && args[at + 1] === dir) pids.push(Number(entry));
  }
  return pids;
}

async function postmasterPid(): Promise<number> {
  return Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

describe('fault drill: stopping the app', () => {
  it('Ctrl-C (SIGINT to the process group) stops it cleanly, Postgres last', async () => {
    const app = startApp(await findFreePortPair());
    expect(await app.ready, app.lines.slice(-20).join('\n')).toBe(true);
    const postgres = await postmasterPid();
    expect(await postgresPidsFor(dataDir)).toContain(postgres);

    process.kill(-(app.child.pid ?? 0), 'SIGINT');
    expect(await exitWithin(app.child, EXIT_BOUND_MS)).toBe(0);
    expect(errorLines(app.lines)).toEqual([]);
    expect(app.lines.some((line) => line.includes('"msg":"stopped in'))).toBe(true);
    expect(await postgresPidsFor(dataDir)).toEqual([]);
  }, 120_000);

  it.each([
    { held: 'PORT', offset: 0, says: (port: number) => `PORT ${String(port)} is in use` },
    {
      held: 'the sandbox port, PORT + 1',
      offset: 1,
      says: (port: number) => `The HubSpot sandbox listens on PORT + 1 (${String(port + 1)})`,
    },
  ])(
    'a start that fails ($held in use) says which port and stops the Postgres it started',
    async ({ offset, says }) => {
      const port = await findFreePortPair();
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(port + offset, '127.0.0.1', resolve));
      try {
        const app = startApp(port);
        expect(await app.ready).toBe(false);
        expect(await exitWithin(app.child, EXIT_BOUND_MS)).toBe(1);
        const failure = app.lines.find((line) => line.startsWith('Failed to start: '));
        expect(failure, app.lines.slice(-20).join('\n')).toContain(says(port));
        expect(await postgresPidsFor(dataDir)).toEqual([]);
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
    },
    120_000,
  );

  it('the next start stops a Postgres orphaned by a SIGKILLed app, and owns its own', async () => {
    const first = startApp(await findFreePortPair());
    expect(await first.ready, first.lines.slice(-20).join('\n')).toBe(true);
    const orphan = await postmasterPid();
    process.kill(-(first.child.pid ?? 0), 'SIGKILL');
    await exited(first.child);
    // Out of the killed group, the server outlives the process that started it.
    expect(await postgresPidsFor(dataDir)).toContain(orphan);

    const second = startApp(await findFreePortPair());
    expect(await second.ready, second.lines.slice(-20).join('\n')).toBe(true);
    expect(
      second.lines.some((line) => line.includes('left running by a process that is gone')),
    ).toBe(true);
    expect(await postgresPidsFor(dataDir)).not.toContain(orphan);

    process.kill(-(second.child.pid ?? 0), 'SIGINT');
    expect(await exitWithin(second.child, EXIT_BOUND_MS)).toBe(0);
    expect(errorLines(second.lines)).toEqual([]);
    expect(await postgresPidsFor(dataDir)).toEqual([]);
  }, 180_000);
});
