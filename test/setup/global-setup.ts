import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { PgBoss } from 'pg-boss';
import type { TestProject } from 'vitest/node';

import { checkNode } from '../../scripts/node-check.mjs';
import { createDatabase } from '../../server/src/platform/db/database.ts';
import {
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from '../../server/src/platform/db/embedded.ts';
import { migrateToLatest } from '../../server/src/platform/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string to a database on the test server with rights to CREATE DATABASE. */
    adminDatabaseUrl: string;
    /** A migrated database that each test file clones. */
    templateDatabase: string;
  }
}

/**
 * Tests use DATABASE_URL when it is set, else their own embedded PostgreSQL in a temp dir.
 * Either way one migrated template database is made per run and cloned per test file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // `npx vitest` skips the npm script's check: say which Node is needed, not a stack trace.
  checkNode();
  let embedded: EmbeddedPostgresHandle | undefined;
  let tempDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    tempDir = await mkdtemp(path.join(os.tmpdir(), 'lexicontract-test-pg-'));
    embedded = await startEmbeddedPostgres({ dir: path.join(tempDir, 'data') });
    adminUrl = embedded.url;
  }
  const template = `lexi_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${template}`);
  await admin.end();

  const templateUrl = withDatabase(adminUrl, template);
  const handle = createDatabase(templateUrl, { maxConnections: 2 });
  await migrateToLatest(handle.db);
  await handle.destroy();
  // pg-boss's schema, made once here so every clone starts with it.
  const boss = new PgBoss({
    connectionString: templateUrl,
    max: 2,
    supervise: false,
    schedule: false,
  });
  await boss.start();
  await boss.stop({ graceful: false, close: true });

  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);

  return async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>(
      `select datname from pg_database where datname = $1 or datname like $2`,
      [template, `${template}_f%`],
    );
    for (const row of rows) {
      await client.query(`drop database if exists ${row.datname} with (force)`);
    }
    await client.end();
    if (embedded) await embedded.stop();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
