/**
 * What the deal import accepts: the file types legal reviews, how to recognise them from
 * their first bytes, which hosts a download may go to, and the attachment name filter of
 * the workflow action.
 */

import type { AllowedFileType } from '../../core/contracts/file-types.ts';

// The type allowlist and signatures are the product's (core/contracts/file-types.ts): an
// upload by legal passes the same checks as an import.
export {
  ALLOWED_FILE_TYPES,
  MAGIC_BYTES,
  allowedTypeFor,
  type AllowedFileType,
} from '../../core/contracts/file-types.ts';

/** Whether a download server's `content-type` is acceptable for the expected type. */
export function servedTypeAcceptable(type: AllowedFileType, header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return true;
  const essence = (header.split(';')[0] ?? '').trim().toLowerCase();
  return type.servedAs.includes(essence);
}

// ---------------------------------------------------------------------------------------
// Download hosts

/**
 * Host suffixes of HubSpot's file CDN that signed-url answers point to. Built from HubSpot's
 * documented file domains, unconfirmed against signed-url answers of a real account, so an
 * operator can replace it (`HUBSPOT_FILE_HOST_SUFFIXES`) without a release; a refused host is
 * logged and shown on the contract page. A host matches when it equals a suffix or ends with
 * `.` + suffix.
 */
export const HUBSPOT_FILE_HOST_SUFFIXES = [
  'hubspotusercontent-na1.net',
  'hubspotusercontent-na2.net',
  'hubspotusercontent-eu1.net',
  'hubspotusercontent-ap1.net',
  'hubspotusercontent00.net',
  'hubspotusercontent10.net',
  'hubspotusercontent20.net',
  'hubspotusercontent30.net',
  'hubspotusercontent40.net',
  'hubspotusercontent.com',
  'hubspot.net',
] as const;

export interface DownloadPolicy {
  /** Host suffixes a download may go to (HTTPS, port 443). */
  readonly hostSuffixes: readonly string[];
  /**
   * The configured HubSpot API origin, always allowed (and not held to the public-address
   * check): an operator who points the app at it already trusts it with the portal's
   * tokens, and a HubSpot stand-in serves its files there. May be plain http.
   */
  readonly extraOrigin: string | undefined;
  /** Plain http allowed only when the configured HubSpot API origin is itself http. */
  readonly allowHttp: boolean;
}

/**
 * The policy for a configured HubSpot: the configured host suffixes
 * (`HUBSPOT_FILE_HOST_SUFFIXES`) or the built-in CDN list, plus the configured API origin.
 */
export function downloadPolicy(hubspot: {
  readonly apiBaseUrl: string;
  readonly fileHostSuffixes?: readonly string[] | undefined;
}): DownloadPolicy {
  const api = new URL(hubspot.apiBaseUrl);
  return {
    hostSuffixes: hubspot.fileHostSuffixes ?? HUBSPOT_FILE_HOST_SUFFIXES,
    extraOrigin: api.origin,
    allowHttp: api.protocol === 'http:',
  };
}

export type UrlRefusal = 'invalid_url' | 'scheme_not_allowed' | 'host_not_allowed';

/**
 * A host name in the form allowlists compare: lower case, without the one trailing dot
 * DNS allows (`files.hubspot.net.` is `files.hubspot.net`). Refused (undefined): empty
 * labels (`a..b`, `.a`, `a..`), which no real file host has.
 */
export function normalizeHost(hostname: string): string | undefined {
  const lower = hostname.toLowerCase();
  const host = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  if (host === '' || host.split('.').some((label) => label === '')) return undefined;
  return host;
}

/** Checks a URL the signed-url answer returned (or a redirect hop) against the policy. */
export function checkDownloadUrl(
  policy: DownloadPolicy,
  raw: string,
):
  | { ok: true; url: URL; trustedOrigin: boolean }
  | { ok: false; reason: UrlRefusal; host?: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'invalid_url' };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'invalid_url' };
  if (policy.extraOrigin !== undefined && url.origin === policy.extraOrigin) {
    return { ok: true, url, trustedOrigin: true };
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    return { ok: false, reason: 'scheme_not_allowed' };
  }
  if (url.port !== '' && url.port !== '443')
    return { ok: false, reason: 'host_not_allowed', host: url.host };
  const host = normalizeHost(url.hostname);
  if (host === undefined) return { ok: false, reason: 'host_not_allowed', host: url.hostname };
  const allowed = policy.hostSuffixes.some((s) => host === s || host.endsWith(`.${s}`));
  if (!allowed) return { ok: false, reason: 'host_not_allowed', host };
  // The request (and every later same-origin comparison) uses the canonical host.
  url.hostname = host;
  return { ok: true, url, trustedOrigin: false };
}

// ---------------------------------------------------------------------------------------
// Attachment selection

/** Which attachments a request imports: all, or those whose name matches a pattern. */
export type FileFilter =
  { readonly mode: 'all' } | { readonly mode: 'matching'; readonly pattern: string };

/** Longest name pattern accepted (settings page, workflow action input, the database check). */
export const MAX_NAME_PATTERN_LENGTH = 200;

/**
 * Longest file name (UTF-16 code units) a pattern is matched against. Longer names never
 * match a pattern (they are still imported when the filter is "all"): no real file system
 * gives a name this long, and the bound keeps one match at most pattern × name steps.
 */
export const MAX_MATCHED_NAME_LENGTH = 1024;

/** Why a name pattern is refused, or undefined when it is acceptable. */
export function namePatternProblem(pattern: string): string | undefined {
  const trimmed = pattern.trim();
  if (trimmed.length === 0) return 'the name pattern is empty';
  if (trimmed.length > MAX_NAME_PATTERN_LENGTH)
    return `the name pattern is longer than ${String(MAX_NAME_PATTERN_LENGTH)} characters`;
  return undefined;
}

/**
 * One code point folded for a case-insensitive comparison, close to the simple case
 * folding a `/iu` regex uses: upper-case, then lower-case, keeping a step only when it
 * yields a single code point (so `ς`/`Σ`/`σ` meet, and `ß`, `İ` stay themselves).
 */
export function foldCodePoint(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x80) return code >= 0x41 && code <= 0x5a ? String.fromCharCode(code + 32) : char;
  const upper = char.toUpperCase();
  const base = Array.from(upper).length === 1 ? upper : char;
  const lower = base.toLowerCase();
  return Array.from(lower).length === 1 ? lower : base;
}

function foldedCode(code: number): number {
  if (code < 0x80) return code >= 0x41 && code <= 0x5a ? code + 32 : code;
  return foldCodePoint(String.fromCodePoint(code)).codePointAt(0) ?? code;
}

/** Line terminators, which the former regex's `.` (and so `*` and `?`) never matched. */
function isLineTerminator(code: number): boolean {
  return code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029;
}

/**
 * A compiled pattern: one entry per position, a folded code point or one of these
 * (negative, so never a code point).
 */
const STAR = -1;
/** The implicit `*` around a wildcard-free pattern: crosses line breaks too (a plain search). */
const STAR_ANY = -2;
const ONE = -3;

function compileNamePattern(pattern: string): Int32Array {
  const trimmed = pattern.trim();
  // Inputs are refused beyond the bound before they are stored (and the database checks it).
  if (trimmed.length > MAX_NAME_PATTERN_LENGTH) {
    throw new RangeError(namePatternProblem(trimmed) ?? 'the name pattern is too long');
  }
  const tokens: number[] = [];
  let hasWildcard = false;
  for (const char of trimmed) {
    if (char === '*') {
      hasWildcard = true;
      // `**` means what `*` means; collapsing keeps the state count down.
      if (tokens.at(-1) !== STAR) tokens.push(STAR);
    } else if (char === '?') {
      hasWildcard = true;
      tokens.push(ONE);
    } else tokens.push(foldedCode(char.codePointAt(0) ?? 0));
  }
  // Without wildcards a pattern matches names containing it anywhere: `*pattern*`.
  if (hasWildcard) return Int32Array.from(tokens);
  return Int32Array.from(tokens.length === 0 ? [STAR_ANY] : [STAR_ANY, ...tokens, STAR_ANY]);
}

/** Adds the states reachable without input (past stars); false when no state is active. */
function closeStates(tokens: Int32Array, states: Uint8Array): boolean {
  let any = false;
  for (let j = 0; j < states.length; j += 1) {
    if (states[j] !== 1) continue;
    any = true;
    const token = tokens[j];
    if (token === STAR || token === STAR_ANY) states[j + 1] = 1;
  }
  return any;
}

/**
 * Runs the pattern over the name as a set of NFA states (one per pattern position), one
 * code point at a time: every state is visited at most once per code point, so a match
 * costs at most (pattern length + 1) × name length steps, whatever the pattern. No regex
 * and no backtracking: `*a*a*a*a*b` costs what `*.pdf` costs, within a small factor.
 */
function runNamePattern(tokens: Int32Array, fileName: string): { matched: boolean; steps: number } {
  if (fileName.length > MAX_MATCHED_NAME_LENGTH) return { matched: false, steps: 0 };
  const size = tokens.length + 1;
  let current = new Uint8Array(size);
  let next = new Uint8Array(size);
  let steps = 0;
  current[0] = 1;
  closeStates(tokens, current);
  for (let i = 0; i < fileName.length;) {
    const code = fileName.codePointAt(i) ?? 0;
    i += code > 0xffff ? 2 : 1;
    const folded = foldedCode(code);
    const breaksLine = isLineTerminator(code);
    for (let j = 0; j < size; j += 1) next[j] = 0;
    for (let j = 0; j < tokens.length; j += 1) {
      if (current[j] !== 1) continue;
      steps += 1;
      const token = tokens[j];
      if (token === STAR) {
        if (!breaksLine) next[j] = 1;
      } else if (token === STAR_ANY) next[j] = 1;
      else if (token === ONE) {
        if (!breaksLine) next[j + 1] = 1;
      } else if (token === folded) next[j + 1] = 1;
    }
    if (!closeStates(tokens, next)) return { matched: false, steps };
    const previous = current;
    current = next;
    next = previous;
  }
  return { matched: current[tokens.length] === 1, steps };
}

/**
 * A case-insensitive glob over the whole file name (with extension): `*` = any run of
 * characters, `?` = one character (a code point); without wildcards it matches names
 * containing it (so an empty pattern matches every name). Neither wildcard matches a line
 * break. Throws a RangeError for a pattern over `MAX_NAME_PATTERN_LENGTH`, which inputs
 * refuse before it can be stored.
 */
export function namePatternMatcher(pattern: string): (fileName: string) => boolean {
  const tokens = compileNamePattern(pattern);
  return (fileName) => runNamePattern(tokens, fileName).matched;
}

/** The match and the NFA steps it took: the cost bound made observable, for tests and bench. */
export function namePatternMatchSteps(
  pattern: string,
  fileName: string,
): { matched: boolean; steps: number } {
  return runNamePattern(compileNamePattern(pattern), fileName);
}

export function fileFilterMatcher(filter: FileFilter | undefined): (fileName: string) => boolean {
  if (!filter || filter.mode === 'all') return () => true;
  return namePatternMatcher(filter.pattern);
}
