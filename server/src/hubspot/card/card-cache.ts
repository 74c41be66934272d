import type { FileMetadataCache } from '../legal-review/deal-reader.ts';
import type { CrmObject, FileMetadata } from '../wire/index.ts';

/**
 * Small in-process caches that let a repeated Deal card load make fewer sequential HubSpot
 * round trips. One set per app instance (created with the card routes), keyed by portal so
 * tenants never share entries. Neither replaces the per-request deal read: the deal is read
 * with the signed portal's token on every load before anything is returned.
 *
 * - File metadata (name, extension, size, access): files are effectively immutable, but a
 *   rename or an access change can happen, so entries live `fileTtlMs` (default 60 s). Only
 *   the card's display uses it; the import reads the metadata again before downloading.
 * - Notes as read (their `hs_attachment_ids`), for `noteTtlMs` (default 60 s): a note's
 *   attachments are set when it is logged and rarely edited, so a repeat load within the
 *   minute reads only the deal (one HubSpot call, which is also the ownership check and
 *   brings the current note ids: a new note is read, a removed one no longer counts).
 * - Which deals were loaded within that minute (`loadedDeals`): a deal not among them is a
 *   cold load, whose notes are also looked for by search beside the deal read.
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

/**
 * Shares one running read among the callers that ask for the same key while it runs; the
 * entry is gone once it settles, so nothing is cached beyond the read itself. A deal page
 * shows the Legal review tab and the sidebar card at once, and both ask for the same deal:
 * the second load joins the first instead of spending its own HubSpot calls.
 */
export class InFlight<V> {
  readonly #running = new Map<string, Promise<V>>();

  run(key: string, read: () => Promise<V>): Promise<V> {
    const running = this.#running.get(key);
    if (running) return running;
    const started = read().finally(() => {
      this.#running.delete(key);
    });
    this.#running.set(key, started);
    return started;
  }
}

export interface CardCaches {
  /**
   * Deals loaded within the notes' lifetime, by `portalId:dealId`: their notes are most
   * likely cached, so a load of one of them reads by id and does not spend a search.
   */
  readonly loadedDeals: TtlCache<true>;
  readonly fileMetadata: FileMetadataCache;
  /** Notes of the portal as last read, by note id. */
  readonly notes: {
    get(portalId: string, noteId: string): CrmObject | undefined;
    set(portalId: string, note: CrmObject): void;
  };
}

export function createCardCaches(
  options: { fileTtlMs?: number; noteTtlMs?: number; maxEntries?: number } = {},
): CardCaches {
  const maxEntries = options.maxEntries ?? 10_000;
  const files = new TtlCache<FileMetadata>({ ttlMs: options.fileTtlMs ?? 60_000, maxEntries });
  const notes = new TtlCache<CrmObject>({ ttlMs: options.noteTtlMs ?? 60_000, maxEntries });
  return {
    loadedDeals: new TtlCache<true>({ ttlMs: options.noteTtlMs ?? 60_000, maxEntries }),
    fileMetadata: {
      get: (portalId, fileId) => files.get(`${portalId}:${fileId}`),
      set: (portalId, fileId, metadata) => {
        files.set(`${portalId}:${fileId}`, metadata);
      },
    },
    notes: {
      get: (portalId, noteId) => notes.get(`${portalId}:${noteId}`),
      set: (portalId, note) => {
        notes.set(`${portalId}:${note.id}`, note);
      },
    },
  };
}
