import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { Config } from '../config/env.ts';
import { createDatabase, type Database } from './database.ts';
import {
  embeddedDatabaseUrl,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from './embedded.ts';

/**
 * Opens the configured database: `DATABASE_URL` when set, otherwise the embedded PostgreSQL
 * under `<dataDir>/postgres` (started here, stopped by `close()`). Shared by `main.ts` and
 * the admin CLI so both reach the same data the same way.
 *
 * When another process (say, the running app) already owns the embedded server, this
 * attaches to it instead of trying to start a second server on the same data directory,
 * so `npm run admin -- keys rotate` works while `npm start` is running.
 */
export interface OpenedDatabase {
  readonly db: Database;
  /** Connection string (with credentials: never log it). */
  readonly url: string;
  /** `url` names the source without credentials, for logs. */
  readonly source: { kind: 'url' } | { kind: 'embedded'; dir: string; attached: boolean };
  /** Closes the pool, then stops the embedded server if this process started it. */
  close(): Promise<void>;
}

export interface OpenDatabaseLogger {
  info(details: object, message: string): void;
  debug(details: object, message: string): void;
}

export async function openDatabaseFromConfig(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  options: { log?: OpenDatabaseLogger; applicationName?: string; maxConnections?: number } = {},
): Promise<OpenedDatabase> {
  const poolOptions = {
    ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName }),
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
  };
  if (config.databaseUrl) {
    const handle = createDatabase(config.databaseUrl, poolOptions);
    return {
      db: handle.db,
      url: config.databaseUrl,
      source: { kind: 'url' },
      close: () => handle.destroy(),
    };
  }

  const dir = path.join(config.dataDir, 'postgres');
  const runningPort = await runningEmbeddedPort(dir);
  let embedded: EmbeddedPostgresHandle | undefined;
  let url: string;
  if (runningPort !== undefined) {
    options.log?.info(
      { dir, port: runningPort },
      'attaching to the embedded PostgreSQL already running',
    );
    url = embeddedDatabaseUrl(runningPort);
  } else {
    options.log?.info({ dir }, 'DATABASE_URL not set: starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      dir,
      onLog: (message) => {
        options.log?.debug({ postgres: message.trim() }, 'embedded postgres');
      },
    });
    url = embedded.url;
  }
  const handle = createDatabase(url, poolOptions);
  return {
    db: handle.db,
    url,
    source: { kind: 'embedded', dir, attached: embedded === undefined },
    async close() {
      try {
        await handle.destroy();
      } finally {
        if (embedded) await embedded.stop();
      }
    },
  };
}

/**
 * The port of a live server owning `dir`, read from its `postmaster.pid` (line 1 = pid,
 * line 4 = port); undefined when there is none or it is stale.
 */
async function runningEmbeddedPort(dir: string): Promise<number | undefined> {
  let content: string;
  try {
    content = await readFile(path.join(dir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = content.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive but owned by another user (the server runs as `postgres` under root).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return port;
}
