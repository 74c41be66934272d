/**
 * What the deal import accepts: the file types legal reviews, how to recognise them from
 * their first bytes, which hosts a download may go to, and the attachment name filter of
 * the workflow action.
 */

export interface AllowedFileType {
  readonly extension: string;
  /** The content type stored with the file (never the one a server claims). */
  readonly contentType: string;
  /** Content types a download server may legitimately answer with for this type. */
  readonly servedAs: readonly string[];
  /** Checks the first bytes; undefined = no reliable signature (plain text is checked for NULs). */
  readonly magic?: (head: Buffer) => boolean;
}

const startsWith = (signature: readonly number[]) => (head: Buffer) =>
  head.length >= signature.length && signature.every((byte, i) => head[i] === byte);

/** `%PDF-` */
const PDF_MAGIC = startsWith([0x25, 0x50, 0x44, 0x46, 0x2d]);
/** ZIP local file header `PK\x03\x04` (DOCX is a ZIP package). */
const ZIP_MAGIC = startsWith([0x50, 0x4b, 0x03, 0x04]);
/** OLE2 compound file (legacy .doc). */
const OLE2_MAGIC = startsWith([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
/** `{\rtf` */
const RTF_MAGIC = startsWith([0x7b, 0x5c, 0x72, 0x74, 0x66]);

const GENERIC = ['application/octet-stream', 'binary/octet-stream', 'application/download'];

/** PDF, DOCX, DOC, RTF and TXT (SPEC §7.2, issue 5). */
export const ALLOWED_FILE_TYPES: readonly AllowedFileType[] = [
  {
    extension: 'pdf',
    contentType: 'application/pdf',
    servedAs: ['application/pdf', 'application/x-pdf', ...GENERIC],
    magic: PDF_MAGIC,
  },
  {
    extension: 'docx',
    contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    servedAs: [
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/zip',
      ...GENERIC,
    ],
    magic: ZIP_MAGIC,
  },
  {
    extension: 'doc',
    contentType: 'application/msword',
    servedAs: ['application/msword', ...GENERIC],
    magic: OLE2_MAGIC,
  },
  {
    extension: 'rtf',
    contentType: 'application/rtf',
    servedAs: ['application/rtf', 'text/rtf', ...GENERIC],
    magic: RTF_MAGIC,
  },
  {
    extension: 'txt',
    contentType: 'text/plain',
    servedAs: ['text/plain', ...GENERIC],
    magic: (head) => !head.includes(0),
  },
];

/** The allowed type of a file, by its extension (HubSpot's `extension`, or the name's). */
export function allowedTypeFor(
  extension: string | undefined,
  name?: string,
): AllowedFileType | undefined {
  const ext = (extension ?? name?.split('.').pop() ?? '').trim().toLowerCase().replace(/^\./, '');
  return ALLOWED_FILE_TYPES.find((t) => t.extension === ext);
}

/** Whether a download server's `content-type` is acceptable for the expected type. */
export function servedTypeAcceptable(type: AllowedFileType, header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return true;
  const essence = (header.split(';')[0] ?? '').trim().toLowerCase();
  return type.servedAs.includes(essence);
}

/** Bytes to look at before accepting a download as the expected type. */
export const MAGIC_BYTES = 8;

// ---------------------------------------------------------------------------------------
// Download hosts

/**
 * Host suffixes of HubSpot's file CDN that signed-url answers point to. Built from HubSpot's
 * documented file domains; TO VERIFY against signed-url answers of a real account (the
 * research marks the exact list as unconfirmed). A host matches when it equals a suffix or
 * ends with `.` + suffix.
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
  /** An exact origin also allowed (the sandbox's, when configured); may be plain http. */
  readonly extraOrigin: string | undefined;
  /** Plain http allowed only when the configured HubSpot API origin is itself http. */
  readonly allowHttp: boolean;
}

/**
 * The policy for a configured HubSpot: production file hosts always; the configured API
 * origin too when it is the sandbox.
 */
export function downloadPolicy(hubspot: {
  readonly sandbox: boolean;
  readonly apiBaseUrl: string;
}): DownloadPolicy {
  const api = new URL(hubspot.apiBaseUrl);
  return {
    hostSuffixes: HUBSPOT_FILE_HOST_SUFFIXES,
    extraOrigin: hubspot.sandbox ? api.origin : undefined,
    allowHttp: api.protocol === 'http:',
  };
}

export type UrlRefusal = 'invalid_url' | 'scheme_not_allowed' | 'host_not_allowed';

/** Checks a URL the signed-url answer returned (or a redirect hop) against the policy. */
export function checkDownloadUrl(
  policy: DownloadPolicy,
  raw: string,
): { ok: true; url: URL; trustedOrigin: boolean } | { ok: false; reason: UrlRefusal } {
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
  if (url.port !== '' && url.port !== '443') return { ok: false, reason: 'host_not_allowed' };
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const allowed = policy.hostSuffixes.some((s) => host === s || host.endsWith(`.${s}`));
  return allowed
    ? { ok: true, url, trustedOrigin: false }
    : { ok: false, reason: 'host_not_allowed' };
}

// ---------------------------------------------------------------------------------------
// Attachment selection

/** Which attachments a request imports: all, or those whose name matches a pattern. */
export type FileFilter =
  { readonly mode: 'all' } | { readonly mode: 'matching'; readonly pattern: string };

const MAX_PATTERN = 200;

/**
 * A case-insensitive glob over the whole file name (with extension): `*` = any run of
 * characters, `?` = one character; without wildcards it matches names containing it.
 */
export function namePatternMatcher(pattern: string): (fileName: string) => boolean {
  const trimmed = pattern.trim().slice(0, MAX_PATTERN);
  const hasWildcard = /[*?]/.test(trimmed);
  const body = trimmed
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const regex = new RegExp(hasWildcard ? `^${body}$` : body, 'iu');
  return (fileName) => regex.test(fileName);
}

export function fileFilterMatcher(filter: FileFilter | undefined): (fileName: string) => boolean {
  if (!filter || filter.mode === 'all') return () => true;
  return namePatternMatcher(filter.pattern);
}
