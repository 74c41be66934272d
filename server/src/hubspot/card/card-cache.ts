import type { FileMetadataCache } from '../legal-review/deal-reader.ts';
import type { FileMetadata } from '../wire/index.ts';

/**
 * Small in-process caches that let a repeated Deal card load make fewer sequential HubSpot
 * round trips. One set per app instance (created with the card routes), keyed by portal so
 * tenants never share entries. Neither replaces the per-request deal read: the deal is read
 * with the signed portal's token on every load before anything is returned.
 *
 * - File metadata (name, extension, size, access): files are effectively immutable, but a
 *   rename or an access change can happen, so entries live `fileTtlMs` (default 60 s). Only
 *   the card's display uses it; the import reads the metadata again before downloading.
 * - The deal's note ids from the previous load: only a hint of which notes to read while
 *   the deal read is in flight. The notes themselves are read fresh each time, and the
 *   deal read's association list decides which ones count.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(options: { ttlMs: number; maxEntries: number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
  }

  get(key: string, now: number = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, now: number = Date.now()): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: now + this.#ttlMs });
    // Insertion order: the first keys are the least recently written.
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

export interface CardCaches {
  readonly fileMetadata: FileMetadataCache;
  /** The deal's note ids seen on its last load (a prefetch hint, never trusted as data). */
  readonly dealNotes: {
    get(portalId: string, dealId: string): readonly string[] | undefined;
    set(portalId: string, dealId: string, noteIds: readonly string[]): void;
  };
}

export function createCardCaches(
  options: { fileTtlMs?: number; hintTtlMs?: number; maxEntries?: number } = {},
): CardCaches {
  const maxEntries = options.maxEntries ?? 10_000;
  const files = new TtlCache<FileMetadata>({ ttlMs: options.fileTtlMs ?? 60_000, maxEntries });
  const notes = new TtlCache<readonly string[]>({
    ttlMs: options.hintTtlMs ?? 10 * 60_000,
    maxEntries,
  });
  return {
    fileMetadata: {
      get: (portalId, fileId) => files.get(`${portalId}:${fileId}`),
      set: (portalId, fileId, metadata) => {
        files.set(`${portalId}:${fileId}`, metadata);
      },
    },
    dealNotes: {
      get: (portalId, dealId) => notes.get(`${portalId}:${dealId}`),
      set: (portalId, dealId, noteIds) => {
        notes.set(`${portalId}:${dealId}`, [...noteIds]);
      },
    },
  };
}
