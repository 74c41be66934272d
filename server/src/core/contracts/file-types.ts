/**
 * The file types legal reviews (SPEC §7.2, issue 5) and how to recognise them from their
 * first bytes. Shared by every way a file enters a contract: the CRM import (which adds its
 * own download rules) and legal's upload of a reviewed version.
 */
import { DomainError } from '../../platform/errors.ts';

export interface AllowedFileType {
  readonly extension: string;
  /** The content type stored with the file (never the one a client or server claims). */
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

/** PDF, DOCX, DOC, RTF and TXT. */
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

/** The allowed type of a file, by its extension (a CRM's `extension`, or the name's). */
export function allowedTypeFor(
  extension: string | undefined,
  name?: string,
): AllowedFileType | undefined {
  const ext = (extension ?? name?.split('.').pop() ?? '').trim().toLowerCase().replace(/^\./, '');
  return ALLOWED_FILE_TYPES.find((t) => t.extension === ext);
}

/** Bytes to look at before accepting content as the expected type. */
export const MAGIC_BYTES = 8;

/** The name's type is not allowed, or the bytes are not what the name says (415). */
export class ContractFileTypeError extends DomainError {
  constructor(message: string) {
    super('file_type_not_allowed', message, 415, {
      allowed_extensions: ALLOWED_FILE_TYPES.map((t) => t.extension),
    });
  }
}

/**
 * Passes the bytes through unchanged, holding back only the first `MAGIC_BYTES` until they
 * have been checked against the type's signature (a short or empty file is checked whole).
 */
export async function* typeCheckedBytes(
  source: AsyncIterable<Uint8Array | string>,
  type: AllowedFileType,
): AsyncGenerator<Buffer> {
  const refuse = () =>
    new ContractFileTypeError(`The content is not a ${type.extension.toUpperCase()} file`);
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const raw of source) {
    const piece =
      typeof raw === 'string'
        ? Buffer.from(raw, 'utf8')
        : Buffer.isBuffer(raw)
          ? raw
          : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
    if (head === undefined) {
      yield piece;
      continue;
    }
    head = Buffer.concat([head, piece]);
    if (head.length < MAGIC_BYTES) continue;
    if (type.magic && !type.magic(head)) throw refuse();
    const buffered = head;
    head = undefined;
    yield buffered;
  }
  if (head !== undefined) {
    if (type.magic && !type.magic(head)) throw refuse();
    if (head.length > 0) yield head;
  }
}
