import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { isLoopbackHost, loadConfig } from '../../../server/src/platform/config/env.ts';

const MAIN = resolve('server/src/main.ts');

/** Runs the app's process in an empty directory (no ./.env) with `env` only. */
async function runMain(env: Record<string, string>) {
  const cwd = await mkdtemp(join(tmpdir(), 'lexicontract-host-'));
  try {
    return await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = execFile(
        process.execPath,
        [MAIN],
        { cwd, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
        (error, _stdout, stderr) => {
          done({ code: error ? (child.exitCode ?? 1) : 0, stderr });
        },
      );
    });
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

describe('sandbox mode listens on loopback only unless told otherwise', () => {
  it('a sandbox started with HOST=0.0.0.0 and no opt-in refuses to start and says why', async () => {
    const { code, stderr } = await runMain({ HOST: '0.0.0.0', PORT: '0' });
    expect(code).not.toBe(0);
    expect(stderr).toContain('HOST: sandbox mode');
    expect(stderr).toContain('SANDBOX_ALLOW_REMOTE=1');
  });

  it('accepts loopback hosts, and a remote HOST with the opt-in or with HubSpot credentials', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', 'LOCALHOST']) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(loadConfig({ HOST: host }).sandboxAllowRemote).toBe(false);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '::ffff:10.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
      expect(() => loadConfig({ HOST: host }), host).toThrow(/SANDBOX_ALLOW_REMOTE/);
    }
    expect(isLoopbackHost('::ffff:127.0.0.1')).toBe(true);
    expect(loadConfig({ HOST: '0.0.0.0', SANDBOX_ALLOW_REMOTE: '1' }).sandboxAllowRemote).toBe(
      true,
    );
    expect(() => loadConfig({ HOST: '0.0.0.0', SANDBOX_ALLOW_REMOTE: 'yes' })).toThrow(
      /SANDBOX_ALLOW_REMOTE/,
    );
    const live = loadConfig({
      HOST: '0.0.0.0',
      HUBSPOT_CLIENT_ID: 'id',
      HUBSPOT_CLIENT_SECRET: 'secret',
      HUBSPOT_APP_ID: '1',
      TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
      SESSION_SECRET: 'x'.repeat(32),
    });
    expect(live.hubspot.mode).toBe('live');
    expect(live.sandboxAllowRemote).toBe(false);
  });
});
