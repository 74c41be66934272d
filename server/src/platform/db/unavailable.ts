/**
 * Telling "the database cannot be reached" apart from a bug. While Postgres is down (stopped,
 * restarting, failing over) every query fails with one of these; the answer is then a 503
 * with `Retry-After`, not a 500, and the log gets one line per interval instead of one per
 * request. The pool reconnects by itself once the server is back.
 */

/** SQLSTATE classes and codes that mean the server is going away or not accepting us. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
]);

/** Socket errors of a connection to the server. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Messages of node-postgres for a connection that ended or could not be made in time. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Connection ended unexpectedly',
  'the database system is shutting down',
  'the database system is starting up',
];

/** Whether `error` (or one it wraps) says the database cannot be reached right now. */
export function isDatabaseUnavailableError(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code)) return true;
    // Class 08: connection exception.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) {
    return true;
  }
  // A refused connection to several addresses (localhost: ::1 and 127.0.0.1) is an AggregateError.
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailableError(e, depth + 1))) {
    return true;
  }
  return cause !== undefined && isDatabaseUnavailableError(cause, depth + 1);
}

/** Seconds a client is told to wait before trying again while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * One log line per `intervalMs` for a recurring failure, carrying how many occurrences the
 * previous lines left out; the first occurrence is always reported.
 */
export class ThrottledReport {
  private lastAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /** Returns the count to log (this one plus those left out since), or undefined to stay quiet. */
  take(): { occurrences: number } | undefined {
    const at = this.now();
    if (at - this.lastAt < this.intervalMs) {
      this.suppressed += 1;
      return undefined;
    }
    const occurrences = this.suppressed + 1;
    this.lastAt = at;
    this.suppressed = 0;
    return { occurrences };
  }
}
