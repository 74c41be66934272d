import { readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';

import type { Config } from '../config/env.ts';
import { createDatabase, type Database } from './database.ts';
import {
  embeddedDatabaseUrl,
  readEmbeddedPassword,
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
 * so `npm run admin -- keys rotate` works while `npm start` is running. A server whose
 * starter is gone (it was SIGKILLed) is stopped and started afresh, so it is owned again.
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
  warn(details: object, message: string): void;
  debug(details: object, message: string): void;
}

export async function openDatabaseFromConfig(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  options: {
    log?: OpenDatabaseLogger;
    applicationName?: string;
    maxConnections?: number;
    /** Ports this process will listen on once the database is up: the embedded server keeps off them. */
    reservedPorts?: readonly number[];
  } = {},
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
  // Who started the server running on `dir`: attaching is only for a live starter's server.
  const ownerFile = path.join(config.dataDir, 'postgres.owner');
  let running = await runningEmbeddedServer(dir);
  if (running && !(await isAlive(await readPid(ownerFile)))) {
    options.log?.warn(
      { dir, pid: running.pid },
      'stopping an embedded PostgreSQL left running by a process that is gone',
    );
    await stopOrphan(running.pid);
    running = undefined;
  }
  let embedded: EmbeddedPostgresHandle | undefined;
  let url: string;
  if (running !== undefined) {
    options.log?.info(
      { dir, port: running.port },
      'attaching to the embedded PostgreSQL already running',
    );
    const password = await readEmbeddedPassword(dir);
    if (password === undefined) {
      throw new Error(
        `The embedded PostgreSQL on ${dir} is running, but its password file is missing; ` +
          'stop the process that runs it and start again.',
      );
    }
    url = embeddedDatabaseUrl(running.port, password);
  } else {
    options.log?.info({ dir }, 'DATABASE_URL not set: starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      dir,
      avoidPorts: options.reservedPorts ?? [],
      onLog: (message) => {
        options.log?.debug({ postgres: message.trim() }, 'embedded postgres');
      },
    });
    await writeFile(ownerFile, `${String(process.pid)}\n`);
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
        if (embedded) {
          await embedded.stop();
          await rm(ownerFile, { force: true });
        }
      }
    },
  };
}

/**
 * The pid and port of a live server owning `dir`, read from its `postmaster.pid` (line 1 =
 * pid, line 4 = port); undefined when there is none or it is stale.
 */
async function runningEmbeddedServer(
  dir: string,
): Promise<{ pid: number; port: number } | undefined> {
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
  return (await isAlive(pid)) ? { pid, port } : undefined;
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function isAlive(pid: number | undefined): Promise<boolean> {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but owned by another user (the server runs as `postgres` under root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fast shutdown of an orphaned postmaster, waiting (up to 15 s) until it is gone. */
async function stopOrphan(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  for (let waited = 0; waited < 15_000; waited += 100) {
    if (!(await isAlive(pid))) return;
    await sleep(100);
  }
  process.kill(pid, 'SIGQUIT');
}
