import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { createTestDatabase } from '../../helpers/test-db.ts';

/**
 * `.env` in the working directory is read by the entry points (here the admin CLI, which
 * shares `loadDotEnv` with `server/src/main.ts`), and a variable already in the environment
 * wins over the file. Each run uses its own temp working directory, so no `.env` is ever
 * written into the checkout.
 */

const database = await createTestDatabase();
const adminScript = fileURLToPath(new URL('../../../server/src/cli/admin.ts', import.meta.url));
const workDir = await mkdtemp(path.join(os.tmpdir(), 'lexicontract-dotenv-'));
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Nothing listens on port 1: a connection string that cannot work. */
const UNREACHABLE_URL = 'postgres://nobody:wrong@127.0.0.1:1/nowhere';

function createOrgIn(
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string; name: string }> {
  const name = `Dotenv Org ${randomBytes(4).toString('hex')}`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [adminScript, 'org', 'create', '--name', name],
      { cwd, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, name });
      },
    );
  });
}

async function organizationNamed(name: string): Promise<number> {
  const rows = await database.db
    .selectFrom('organizations')
    .select('id')
    .where('name', '=', name)
    .execute();
  return rows.length;
}

describe('.env', () => {
  it('supplies a variable the environment does not set', async () => {
    await writeFile(path.join(workDir, '.env'), `# test\nDATABASE_URL=${database.url}\n`);
    const result = await createOrgIn(workDir, {});
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await organizationNamed(result.name)).toBe(1);
  });

  it('loses to the same variable set in the environment', async () => {
    await writeFile(path.join(workDir, '.env'), `DATABASE_URL=${UNREACHABLE_URL}\n`);
    const result = await createOrgIn(workDir, { DATABASE_URL: database.url });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await organizationNamed(result.name)).toBe(1);

    // And the file's value is the one used when the environment leaves it out.
    const fromFile = await createOrgIn(workDir, {});
    expect(fromFile.code).not.toBe(0);
    expect(await organizationNamed(fromFile.name)).toBe(0);
  });
});
