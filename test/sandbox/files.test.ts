import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { SignedUrlSchema } from '../../server/src/hubspot/wire/index.ts';
import {
  fileContentChunks,
  fileContentLength,
  normalizeFileSpec,
} from '../../sandbox/file-content.ts';
import { expectedFileSha256 } from '../../sandbox/index.ts';
import { api, installedPortal, sandbox } from './helpers.ts';

const handle = await sandbox();

function bytesOf(input: Parameters<typeof normalizeFileSpec>[0]): Buffer {
  return Buffer.concat([...fileContentChunks(normalizeFileSpec(input))]);
}

/** Structural PDF check: header, trailer, and every xref offset lands on its object. */
function assertValidPdf(pdf: Buffer): void {
  const text = pdf.toString('latin1');
  expect(text.startsWith('%PDF-1.')).toBe(true);
  expect(text.endsWith('%%EOF\n')).toBe(true);
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)?.[1]);
  expect(text.slice(startxref, startxref + 4)).toBe('xref');
  const entries = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) =>
    Number(m[1]),
  );
  expect(entries.length).toBeGreaterThanOrEqual(5);
  entries.forEach((offset, i) => {
    expect(text.slice(offset, offset + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`);
  });
}

/** Reads a ZIP's central directory and checks each entry's CRC; returns name → content. */
function readZip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(end).toBeGreaterThan(0);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString();
    const local = zip.readUInt32LE(at + 42);
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + size);
    expect(crc32(data)).toBe(crc);
    files.set(name, data);
    at += 46 + nameLength;
  }
  return files;
}

describe('generated files', () => {
  it('makes a valid PDF carrying the text, padded to an exact size when asked', () => {
    const small = bytesOf({ name: 'MSA.pdf', text: 'Master (Services) Agreement' });
    assertValidPdf(small);
    expect(small.toString('latin1')).toContain('(Master \\(Services\\) Agreement) Tj');
    const padded = bytesOf({ name: 'Big.pdf', sizeBytes: 300_001 });
    expect(padded.length).toBe(300_001);
    assertValidPdf(padded);
  });

  it('makes a valid DOCX package', () => {
    const files = readZip(bytesOf({ name: 'DPA.docx', text: 'Data Processing <Addendum>' }));
    expect([...files.keys()]).toEqual(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']);
    expect(files.get('word/document.xml')?.toString()).toContain(
      'Data Processing &lt;Addendum&gt;',
    );
    expect(files.get('[Content_Types].xml')?.toString()).toContain(
      'wordprocessingml.document.main+xml',
    );
  });

  it('is deterministic per spec and differs by seed', () => {
    expect(expectedFileSha256({ name: 'x.bin', sizeBytes: 100_000 })).toBe(
      createHash('sha256')
        .update(bytesOf({ name: 'x.bin', sizeBytes: 100_000 }))
        .digest('hex'),
    );
    expect(expectedFileSha256({ name: 'x.bin', sizeBytes: 100_000, seed: 'a' })).not.toBe(
      expectedFileSha256({ name: 'x.bin', sizeBytes: 100_000, seed: 'b' }),
    );
    expect(fileContentLength(normalizeFileSpec({ name: 'n.txt', sizeBytes: 12_345 }))).toBe(12_345);
    expect(bytesOf({ name: 'n.txt', sizeBytes: 12_345 }).length).toBe(12_345);
  });

  it('streams a 256 MB attachment in bounded chunks with the expected SHA-256', async () => {
    const spec = { name: 'Scanned contract.pdf', sizeBytes: 256 * 1024 * 1024 };
    let largest = 0;
    for (const chunk of fileContentChunks(normalizeFileSpec(spec)))
      largest = Math.max(largest, chunk.length);
    expect(largest).toBeLessThanOrEqual(64 * 1024 + 1024);

    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Large' });
    const { fileIds } = handle.control.attachNoteWithFiles(portalId, deal.id, [spec]);
    const signed = SignedUrlSchema.parse(
      (await api(handle, accessToken, 'GET', `/files/2026-03/files/${fileIds[0]}/signed-url`)).body,
    );
    expect(signed.size).toBe(spec.sizeBytes);
    const response = await fetch(signed.url);
    expect(response.headers.get('content-length')).toBe(String(spec.sizeBytes));
    const hash = createHash('sha256');
    let total = 0;
    if (!response.body) throw new Error('no body');
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      total += chunk.length;
    }
    expect(total).toBe(spec.sizeBytes);
    expect(hash.digest('hex')).toBe(expectedFileSha256(spec));
  });
});
