import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, inject } from 'vitest';

import { createDatabase, type DatabaseHandle } from '../../server/src/platform/db/database.ts';
import { withDatabase } from '../setup/global-setup.ts';

const urls = new WeakMap<object, string>();

/** The connection string of a database made by createTestDatabase. */
export function testDatabaseUrl(db: object): string {
  const url = urls.get(db);
  if (!url) throw new Error('not a test database from createTestDatabase()');
  return url;
}

export interface TestDatabase extends DatabaseHandle {
  readonly url: string;
  readonly name: string;
}

/**
 * A fresh, migrated database of this test file's own (a clone of the run's template),
 * dropped after the file. Call at module level or in beforeAll.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl');
  const template = inject('templateDatabase');
  const name = `${template}_f${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Cloning fails while another clone of the same template is in progress; retry briefly.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        break;
      } catch (error) {
        if (attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const handle = createDatabase(url, { maxConnections: 10 });
  const testDb: TestDatabase = { ...handle, url, name };
  urls.set(handle.db, url);
  afterAll(async () => {
    await handle.destroy();
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  });
  return testDb;
}
