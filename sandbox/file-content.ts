import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

/**
 * Deterministic attachment content. Small PDF, DOCX and text files are real, minimal, valid
 * documents; large files (hundreds of MB) are produced chunk by chunk as a stream and never
 * held in memory. The same spec always yields the same bytes, so a test can compute the
 * expected SHA-256 with `expectedFileSha256`.
 */

export type FileKind = 'pdf' | 'docx' | 'txt' | 'bytes';

export interface FileContentInput {
  /** File name with extension, e.g. `MSA - Acme.pdf`. */
  readonly name: string;
  /** Defaults from the extension: .pdf, .docx, .txt, otherwise bytes. */
  readonly kind?: FileKind;
  /** Exact size in bytes. PDF, text and bytes files are padded to it; DOCX ignores it. */
  readonly sizeBytes?: number;
  /** Text of the document (PDF, DOCX, text). Defaults to a line naming the file. */
  readonly text?: string;
  /** Varies the padding bytes; defaults to the name. */
  readonly seed?: string;
}

export interface FileContentSpec {
  readonly name: string;
  readonly kind: FileKind;
  readonly sizeBytes: number | undefined;
  readonly text: string;
  readonly seed: string;
}

export const CONTENT_TYPES: Readonly<Record<FileKind, string>> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  txt: 'text/plain',
  bytes: 'application/octet-stream',
};

const CHUNK = 64 * 1024;

export function kindFromName(name: string): FileKind {
  const lower = name.toLowerCase();
  if (lower.endsWith('.pdf')) return 'pdf';
  if (lower.endsWith('.docx')) return 'docx';
  if (lower.endsWith('.txt')) return 'txt';
  return 'bytes';
}

export function normalizeFileSpec(input: FileContentInput): FileContentSpec {
  if (
    input.sizeBytes !== undefined &&
    (!Number.isSafeInteger(input.sizeBytes) || input.sizeBytes < 0)
  ) {
    throw new Error(`sizeBytes must be a non-negative integer, got ${String(input.sizeBytes)}`);
  }
  return {
    name: input.name,
    kind: input.kind ?? kindFromName(input.name),
    sizeBytes: input.sizeBytes,
    text: input.text ?? `${input.name}\nLexiContract sandbox document for legal review.`,
    seed: input.seed ?? input.name,
  };
}

/** One 64 KiB pseudo-random block per seed; chunk i stamps its index into the first 8 bytes. */
function noiseBlock(seed: string): Buffer {
  const block = Buffer.alloc(CHUNK);
  for (let i = 0; i * 32 < CHUNK; i++) {
    createHash('sha256')
      .update(`${seed}:${i}`)
      .digest()
      .copy(block, i * 32);
  }
  return block;
}

function* noise(seed: string, length: number): Generator<Buffer> {
  const block = noiseBlock(seed);
  let index = 0n;
  for (let remaining = length; remaining > 0; remaining -= CHUNK) {
    const chunk = Buffer.from(block.subarray(0, Math.min(CHUNK, remaining)));
    if (chunk.length >= 8) chunk.writeBigUInt64BE(index);
    index += 1n;
    yield chunk;
  }
}

function pdfText(text: string): string {
  const lines = text.split('\n').map((line) =>
    line
      .replace(/[^\x20-\x7e]/g, '?')
      .replace(/\\/g, '\\\\')
      .replace(/\(/g, '\\(')
      .replace(/\)/g, '\\)'),
  );
  return `BT /F1 12 Tf 16 TL 72 720 Td ${lines.map((l) => `(${l}) Tj T*`).join(' ')} ET`;
}

interface PdfLayout {
  readonly head: Buffer;
  readonly padding: number;
  readonly tail: Buffer;
}

function pdfLayout(spec: FileContentSpec): PdfLayout {
  const content = pdfText(spec.text);
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const header = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  const build = (padding: number | undefined): PdfLayout => {
    const offsets: number[] = [];
    let body = '';
    let offset = header.length;
    objects.forEach((object, i) => {
      const text = `${i + 1} 0 obj\n${object}\nendobj\n`;
      offsets.push(offset);
      offset += Buffer.byteLength(text);
      body += text;
    });
    let padHead = '';
    if (padding !== undefined) {
      padHead = `6 0 obj\n<< /Length ${padding} >>\nstream\n`;
      offsets.push(offset);
      offset += Buffer.byteLength(padHead) + padding;
    }
    const padTail = padding !== undefined ? '\nendstream\nendobj\n' : '';
    offset += padTail.length;
    const count = offsets.length + 1;
    const xref =
      `xref\n0 ${count}\n0000000000 65535 f \n` +
      offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('') +
      `trailer\n<< /Size ${count} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`;
    return {
      head: Buffer.concat([header, Buffer.from(body + padHead, 'latin1')]),
      padding: padding ?? 0,
      tail: Buffer.from(padTail + xref, 'latin1'),
    };
  };
  const natural = build(undefined);
  const target = spec.sizeBytes;
  const naturalSize = natural.head.length + natural.tail.length;
  if (target === undefined || target <= naturalSize + 64) return natural;
  let padding = target - naturalSize;
  for (let attempt = 0; attempt < 20; attempt++) {
    const layout = build(padding);
    const total = layout.head.length + layout.padding + layout.tail.length;
    if (total === target) return layout;
    padding += target - total;
  }
  return build(padding);
}

/** A minimal stored (uncompressed) ZIP, enough for a valid DOCX package. */
function zipStored(entries: readonly { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(0, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}

function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function docx(spec: FileContentSpec): Buffer {
  const xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
  const paragraphs = spec.text
    .split('\n')
    .map((line) => `<w:p><w:r><w:t xml:space="preserve">${xmlEscape(line)}</w:t></w:r></w:p>`)
    .join('');
  return zipStored([
    {
      name: '[Content_Types].xml',
      data: Buffer.from(
        `${xml}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
          '<Default Extension="xml" ContentType="application/xml"/>' +
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
          '</Types>',
      ),
    },
    {
      name: '_rels/.rels',
      data: Buffer.from(
        `${xml}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
          '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>' +
          '</Relationships>',
      ),
    },
    {
      name: 'word/document.xml',
      data: Buffer.from(
        `${xml}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
          `<w:body>${paragraphs}<w:sectPr/></w:body></w:document>`,
      ),
    },
  ]);
}

function txtLength(spec: FileContentSpec): number {
  return spec.sizeBytes ?? Buffer.byteLength(`${spec.text}\n`);
}

function* txtChunks(spec: FileContentSpec): Generator<Buffer> {
  const unit = Buffer.from(`${spec.text}\n`);
  const total = txtLength(spec);
  const repeated = Buffer.alloc(Math.max(CHUNK - (CHUNK % unit.length), unit.length));
  for (let i = 0; i < repeated.length; i += unit.length) unit.copy(repeated, i);
  for (let sent = 0; sent < total;) {
    const size = Math.min(repeated.length, total - sent);
    yield Buffer.from(repeated.subarray(0, size));
    sent += size;
  }
}

/** Exact byte length of the content, without producing it. */
export function fileContentLength(spec: FileContentSpec): number {
  switch (spec.kind) {
    case 'pdf': {
      const layout = pdfLayout(spec);
      return layout.head.length + layout.padding + layout.tail.length;
    }
    case 'docx':
      return docx(spec).length;
    case 'txt':
      return txtLength(spec);
    case 'bytes':
      return spec.sizeBytes ?? 1024;
  }
}

/** The content as a lazily produced sequence of chunks (≤ 64 KiB each). */
export function* fileContentChunks(spec: FileContentSpec): Generator<Buffer> {
  switch (spec.kind) {
    case 'pdf': {
      const layout = pdfLayout(spec);
      yield layout.head;
      yield* noise(spec.seed, layout.padding);
      yield layout.tail;
      return;
    }
    case 'docx':
      yield docx(spec);
      return;
    case 'txt':
      yield* txtChunks(spec);
      return;
    case 'bytes':
      yield* noise(spec.seed, spec.sizeBytes ?? 1024);
      return;
  }
}

export function fileContentStream(spec: FileContentSpec): Readable {
  return Readable.from(fileContentChunks(spec), { objectMode: false });
}

/** Hex SHA-256 of the bytes the sandbox serves for this file spec (streams; no big buffers). */
export function expectedFileSha256(input: FileContentInput): string {
  const hash = createHash('sha256');
  for (const chunk of fileContentChunks(normalizeFileSpec(input))) hash.update(chunk);
  return hash.digest('hex');
}
