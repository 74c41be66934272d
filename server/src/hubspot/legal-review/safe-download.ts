import dns from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';

import ipaddr from 'ipaddr.js';

import {
  checkDownloadUrl,
  MAGIC_BYTES,
  servedTypeAcceptable,
  type AllowedFileType,
  type DownloadPolicy,
} from './file-policy.ts';

/**
 * Downloads one attachment from the URL HubSpot's signed-url answer returned, and nothing
 * else (reliability-security-performance §A.5): allowlisted hosts only, HTTPS (plain http
 * only when the configured HubSpot origin is itself http), DNS answers pinned and refused
 * when they point into private, loopback or link-local space, redirects only to the same
 * origin (at most 3, each re-checked), connect/idle/total timeouts tied to the job's signal,
 * a size cap checked against `Content-Length` before reading and counted while reading, and
 * the first bytes checked against the expected type. Bytes are streamed, never buffered.
 */

export type DownloadFailure =
  'too_large' | 'type_not_allowed' | 'url_not_allowed' | 'unavailable' | 'failed';

export class DownloadError extends Error {
  readonly reason: DownloadFailure;
  /** Worth trying again (with a fresh signed URL): timeouts, 5xx, 429, resets. */
  readonly transient: boolean;
  readonly status: number | undefined;
  /** The host a `url_not_allowed` refused (never the path or query: they carry the token). */
  readonly host: string | undefined;

  constructor(
    reason: DownloadFailure,
    message: string,
    options: { transient?: boolean; status?: number; host?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DownloadError';
    this.reason = reason;
    this.transient = options.transient ?? false;
    this.status = options.status;
    this.host = options.host;
  }
}

/**
 * Whether a download may connect to an address: only public unicast space, as classified
 * by `ipaddr.js` (a maintained table of special ranges, not a hand list). IPv6 forms that
 * carry an IPv4 address (mapped `::ffff:a.b.c.d`, the deprecated compatible `::a.b.c.d`,
 * 6to4 `2002:aabb:ccdd::/48` and NAT64 `64:ff9b::/96`) are judged by the IPv4 address they
 * lead to. Anything unparsable is refused.
 */
export function isBlockedAddress(address: string): boolean {
  // net.isIP first: ipaddr.js also accepts legacy forms (`0x7f.1`, `2130706433`).
  if (net.isIP(address) === 0 && net.isIP(address.split('%')[0] ?? '') === 0) return true;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return true;
  }
  return !isPublicUnicast(parsed);
}

function isPublicUnicast(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (address.kind() === 'ipv4') return address.range() === 'unicast';
  const v6 = address as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded !== undefined) return embedded.range() === 'unicast';
  return v6.range() === 'unicast';
}

/** The IPv4 address an IPv6 address stands for, when it is one of the embedding forms. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const parts = address.parts;
  const v4 = (high: number, low: number) =>
    new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0] = parts;
  // IPv4-compatible ::a.b.c.d; `::` and `::1` land in 0.0.0.0/8, refused as well.
  if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0) {
    return v4(p6, p7);
  }
  const range = address.range();
  if (range === '6to4') return v4(p1, p2);
  // NAT64 well-known prefix 64:ff9b::/96 (the /48 local-use one stays refused: not unicast).
  if (p0 === 0x64 && p1 === 0xff9b && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0) {
    return v4(p6, p7);
  }
  return undefined;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/** `lookup` for http.request: resolves, then refuses any private answer (no rebinding gap). */
function pinnedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback) {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) {
      callback(error, []);
      return;
    }
    const refused = addresses.length === 0 || addresses.some((a) => isBlockedAddress(a.address));
    if (refused) {
      const blocked = new Error(
        `refusing to connect to ${hostname}: it resolves to a private or local address`,
      ) as NodeJS.ErrnoException;
      blocked.code = 'EADDRBLOCKED';
      (blocked as NodeJS.ErrnoException & { hostname?: string }).hostname = hostname;
      callback(blocked, []);
      return;
    }
    const first = addresses[0];
    if (options.all === true || !first) callback(null, addresses);
    else callback(null, first.address, first.family);
  });
}

export interface DownloadOptions {
  readonly policy: DownloadPolicy;
  /** The expected type (from HubSpot's file metadata); checked against the bytes. */
  readonly type: AllowedFileType;
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** Total time for the whole transfer; default 60 s + 1 s per MiB of the cap. */
  readonly deadlineMs?: number;
}

const MAX_REDIRECTS = 3;

function requestOnce(
  url: URL,
  trusted: boolean,
  signal: AbortSignal,
  options: DownloadOptions,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'GET',
      agent: false,
      signal,
      timeout: options.idleTimeoutMs ?? 30_000,
      headers: { accept: '*/*', 'user-agent': 'LexiContract-HubSpot-Import/1' },
      // The sandbox listens on loopback by design; real hosts go through the pinned lookup.
      ...(trusted ? {} : { lookup: pinnedLookup }),
    });
    const connectTimer = setTimeout(() => {
      request.destroy(
        new DownloadError('failed', 'connecting to the file host timed out', { transient: true }),
      );
    }, options.connectTimeoutMs ?? 5_000);
    request.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else
        socket.once('connect', () => {
          clearTimeout(connectTimer);
        });
    });
    request.on('timeout', () => {
      request.destroy(
        new DownloadError('failed', 'the file host stopped sending', { transient: true }),
      );
    });
    request.on('response', (response) => {
      clearTimeout(connectTimer);
      resolve(response);
    });
    request.on('error', (error) => {
      clearTimeout(connectTimer);
      reject(error);
    });
    request.end();
  });
}

function asDownloadError(error: unknown): DownloadError {
  if (error instanceof DownloadError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRBLOCKED') {
    const host = (error as NodeJS.ErrnoException & { hostname?: string }).hostname;
    return new DownloadError('url_not_allowed', (error as Error).message, {
      cause: error,
      ...(host !== undefined ? { host } : {}),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DownloadError('failed', `the download failed: ${message}`, {
    transient: true,
    cause: error,
  });
}

/**
 * Opens the download and returns its bytes as an async iterable (for `writeContractFile`,
 * which hashes, counts against the cap and stores them as they arrive). Throws a
 * `DownloadError` before any byte is yielded when the URL, status, size or type is wrong;
 * a type mismatch in the first bytes throws from the iterable.
 */
export async function openDownload(
  rawUrl: string,
  options: DownloadOptions,
): Promise<AsyncIterable<Buffer>> {
  const deadlineMs =
    options.deadlineMs ?? 60_000 + Math.ceil(options.maxBytes / (1024 * 1024)) * 1_000;
  const deadline = AbortSignal.timeout(deadlineMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;

  const first = checkDownloadUrl(options.policy, rawUrl);
  if (!first.ok) {
    throw new DownloadError('url_not_allowed', `download URL refused (${first.reason})`, {
      ...(first.host !== undefined ? { host: first.host } : {}),
    });
  }
  let current = first;
  let response: IncomingMessage;
  for (let hop = 0; ; hop += 1) {
    try {
      response = await requestOnce(current.url, current.trustedOrigin, signal, options);
    } catch (error) {
      throw asDownloadError(error);
    }
    const status = response.statusCode ?? 0;
    if (status < 300 || status >= 400) break;
    response.destroy();
    const location = response.headers.location;
    if (hop >= MAX_REDIRECTS || !location) {
      throw new DownloadError('url_not_allowed', 'the file host redirected too often or nowhere');
    }
    const next = checkDownloadUrl(options.policy, new URL(location, current.url).toString());
    // Only same-origin redirects: a signed URL never legitimately moves to another host.
    if (!next.ok || next.url.origin !== current.url.origin) {
      const host = next.ok ? next.url.host : next.host;
      throw new DownloadError('url_not_allowed', 'the file host redirected to another host', {
        ...(host !== undefined ? { host } : {}),
      });
    }
    current = next;
  }

  const status = response.statusCode ?? 0;
  if (status !== 200) {
    response.destroy();
    if (status === 404 || status === 410) {
      throw new DownloadError('unavailable', `the file host answered ${status}`, { status });
    }
    const transient = status === 403 || status === 408 || status === 429 || status >= 500;
    throw new DownloadError('failed', `the file host answered ${status}`, { transient, status });
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    response.destroy();
    throw new DownloadError(
      'too_large',
      `the file is ${declared} bytes (limit ${options.maxBytes})`,
    );
  }
  if (!servedTypeAcceptable(options.type, response.headers['content-type'])) {
    response.destroy();
    throw new DownloadError(
      'type_not_allowed',
      `the file host served ${response.headers['content-type'] ?? ''} for a .${options.type.extension} file`,
    );
  }
  return checkedBytes(response, options.type);
}

/** Passes the bytes through, checking the first ones against the type's signature. */
async function* checkedBytes(
  source: IncomingMessage,
  type: AllowedFileType,
): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  try {
    for await (const chunk of source) {
      const piece = chunk as Buffer;
      if (head === undefined) {
        yield piece;
        continue;
      }
      head = Buffer.concat([head, piece]);
      if (head.length < MAGIC_BYTES) continue;
      if (type.magic && !type.magic(head)) {
        throw new DownloadError(
          'type_not_allowed',
          `the content is not a ${type.extension.toUpperCase()} file`,
        );
      }
      const buffered = head;
      head = undefined;
      yield buffered;
    }
    if (head !== undefined) {
      // A short (or empty) file: it still has to look like its type.
      if (type.magic && !type.magic(head)) {
        throw new DownloadError(
          'type_not_allowed',
          `the content is not a ${type.extension.toUpperCase()} file`,
        );
      }
      if (head.length > 0) yield head;
    }
  } catch (error) {
    throw asDownloadError(error);
  } finally {
    source.destroy();
  }
}
