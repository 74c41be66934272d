import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';

import { z } from 'zod';

/**
 * The sandbox's memory on disk, for a sandbox that should survive a restart (`npm start`,
 * `npm run sandbox`): one file holding a `node:v8` snapshot of the state's maps (v8 keeps
 * Map, Set, Buffer and undefined as they are, so whatever a portal record holds is saved
 * without a schema of its own here). Written atomically (temporary file, fsync, rename) a
 * moment after each change and once more on close; read once at start.
 *
 * The file holds the sandbox's tokens (of a fake HubSpot), so it is created 0600 in a 0700
 * directory. A file this build cannot read (damaged, another format version) is moved aside
 * as `<file>.unreadable`, reported in one log line, and the sandbox starts fresh.
 */
export const STATE_FORMAT = 'lexicontract-sandbox-state';
/** Bump when a saved snapshot would no longer mean the same to this code. */
export const STATE_FORMAT_VERSION = 1;

/** How long after a change the snapshot is written (changes in between share one write). */
export const SAVE_DELAY_MS = 200;

export interface SnapshotContent {
  /** `SandboxState.snapshotData()`. */
  readonly state: Record<string, unknown>;
  /** What the runtime keeps beyond the state: workflow callbacks and their completions. */
  readonly runtime: Record<string, unknown>;
  /** The seeded demo portal's ids, when there is one. */
  readonly demo?: unknown;
}

const EnvelopeSchema = z.object({
  format: z.literal(STATE_FORMAT),
  version: z.number().int(),
  savedAt: z.string(),
  state: z.record(z.string(), z.unknown()),
  runtime: z.record(z.string(), z.unknown()),
  demo: z.unknown().optional(),
});

export interface PersistenceLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Moves an unusable file out of the way so the next save does not destroy it silently. */
function setAside(file: string): string {
  const aside = `${file}.unreadable`;
  try {
    renameSync(file, aside);
  } catch {
    // Could not move it: the next save overwrites it; the log line already said why.
  }
  return aside;
}

/**
 * Reads the snapshot at `file`: undefined when there is none, or when it cannot be used
 * (then one log line says why and where the old file went).
 */
export function loadSnapshot(file: string, log: PersistenceLog): SnapshotContent | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    log.warn(
      { file, reason: (error as Error).message },
      'sandbox state file could not be read; starting with a fresh sandbox',
    );
    return undefined;
  }
  let problem: string;
  try {
    const parsed = EnvelopeSchema.safeParse(deserialize(bytes));
    if (parsed.success && parsed.data.version === STATE_FORMAT_VERSION) {
      return {
        state: parsed.data.state,
        runtime: parsed.data.runtime,
        ...(parsed.data.demo !== undefined ? { demo: parsed.data.demo } : {}),
      };
    }
    problem = parsed.success
      ? `format version ${String(parsed.data.version)}, this build reads ${String(STATE_FORMAT_VERSION)}`
      : 'not a sandbox state file';
  } catch (error) {
    problem = `damaged (${(error as Error).message})`;
  }
  const aside = setAside(file);
  log.warn(
    { file, problem, movedTo: aside },
    `sandbox state file unusable (${problem}); starting with a fresh sandbox, the old file is kept as ${aside}`,
  );
  return undefined;
}

/** Deletes the snapshot (`--reset`): the next start seeds a fresh sandbox. */
export function removeSnapshot(file: string): void {
  rmSync(file, { force: true });
}

/** Creates the snapshot's directory (0700) if it is missing. */
export function ensureSnapshotDirectory(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
}

/** Writes snapshots of `capture()` to `file`, debounced, one write at a time. */
export class SnapshotWriter {
  private readonly file: string;
  private readonly capture: () => SnapshotContent;
  private readonly log: PersistenceLog;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  private failedBefore = false;

  constructor(file: string, capture: () => SnapshotContent, log: PersistenceLog) {
    this.file = file;
    this.capture = capture;
    this.log = log;
  }

  /** Something changed: a write follows shortly. */
  changed(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer !== undefined || this.writing !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, SAVE_DELAY_MS);
    this.timer.unref();
  }

  /** Writes now if anything changed since the last write (waits for a write in progress). */
  async flush(): Promise<void> {
    this.cancelTimer();
    while (this.writing !== undefined) await this.writing;
    // A write that ended meanwhile may have scheduled the next one: this is it.
    this.cancelTimer();
    if (!this.dirty) return;
    this.dirty = false;
    this.writing = this.write().finally(() => {
      this.writing = undefined;
      // Changed while writing: write again, after the usual delay.
      if (this.dirty && !this.closed) this.changed();
    });
    await this.writing;
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Writes now, changed or not (after a start-over). */
  async saveNow(): Promise<void> {
    this.dirty = true;
    await this.flush();
  }

  /** The last write, then no more. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async write(): Promise<void> {
    const tmp = `${this.file}.${String(process.pid)}.tmp`;
    try {
      const content = this.capture();
      const bytes = serialize({
        format: STATE_FORMAT,
        version: STATE_FORMAT_VERSION,
        savedAt: new Date().toISOString(),
        ...content,
      });
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
      if (this.failedBefore) {
        this.failedBefore = false;
        this.log.info({ file: this.file }, 'sandbox state saved again');
      }
    } catch (error) {
      await rm(tmp, { force: true }).catch(() => undefined);
      // One line per run of failures, not one per change.
      if (!this.failedBefore) {
        this.failedBefore = true;
        this.log.error(
          { file: this.file, reason: (error as Error).message },
          'sandbox state could not be saved; a restart would lose the changes since',
        );
      }
      this.dirty = true;
    }
  }
}
