import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { describe, expect, it } from 'vitest';

import { writeContractFile } from '../../../server/src/core/contracts/contract-files.ts';
import { buildTestApp } from '../../helpers/test-app.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { makeContract, makeTenant } from '../contracts/factories.ts';

const database = await createTestDatabase();
const db = database.db;

const FILE_BYTES = 100 * 1024 * 1024;
const PIECE_BYTES = 64 * 1024;
/** Generous: buffering the file anywhere would cost ≥ 100 MB (≥ 200 MB as bytea hex). */
const MAX_GROWTH_BYTES = 64 * 1024 * 1024;

/**
 * `total` bytes of deterministic pseudo-random data (xorshift32), produced piece by piece as
 * the consumer pulls: never more than one 64 KiB piece exists at a time. Every byte pushed
 * is also fed to `hash`.
 */
function generatedSource(total: number, seed: number, hash: ReturnType<typeof createHash>) {
  let state = seed >>> 0 || 1;
  let produced = 0;
  return new Readable({
    highWaterMark: PIECE_BYTES,
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(PIECE_BYTES, total - produced);
      const piece = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i += 4) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        state >>>= 0;
        piece.writeUInt32LE(state, i);
      }
      produced += size;
      hash.update(piece);
      this.push(piece);
    },
  });
}

/**
 * A full garbage collection on demand. Streaming leaves tens of MB of short-lived garbage
 * that V8 collects when it likes; collecting before each sample makes the peak measure what
 * is actually held (a buffered file would be), not how lazy the collector was.
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Samples RSS and ArrayBuffer memory (after a collection) until stopped; returns the peaks. */
function sampleMemory() {
  const peak = { rss: 0, arrayBuffers: 0, samples: 0 };
  const take = () => {
    collectGarbage();
    const usage = process.memoryUsage();
    peak.rss = Math.max(peak.rss, usage.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, usage.arrayBuffers);
    peak.samples += 1;
  };
  take();
  const timer = setInterval(take, 10);
  return {
    stop() {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}

describe('100 MB contract file', () => {
  it('streams into Postgres and out through the HTTP route with bounded memory', async () => {
    const app = await buildTestApp({ db });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const tenant = await makeTenant(db);
    const contract = await makeContract(db, tenant.organization.id);

    collectGarbage();
    const baseline = process.memoryUsage();

    // In: a 100 MB stream that never exists as a whole.
    const writeSampler = sampleMemory();
    const expectedHash = createHash('sha256');
    const stored = await writeContractFile(
      db,
      {
        organizationId: tenant.organization.id,
        contractId: contract.id,
        name: 'big-contract.pdf',
        contentType: 'application/pdf',
      },
      generatedSource(FILE_BYTES, 0x5eed, expectedHash),
      { maxBytes: 400 * 1024 * 1024 },
    );
    const writePeak = writeSampler.stop();
    const expected = expectedHash.digest('hex');
    expect(stored.file.sizeBytes).toBe(FILE_BYTES);
    expect(stored.file.sha256).toBe(expected);

    // Out: a real HTTP response read as a stream, hashed and counted piece by piece.
    const readSampler = sampleMemory();
    const received = await new Promise<{
      status: number;
      headers: http.IncomingHttpHeaders;
      bytes: number;
      sha256: string;
    }>((resolve, reject) => {
      const request = http.get(
        {
          host: '127.0.0.1',
          port,
          path: `/api/v1/contracts/${contract.id}/files/${stored.file.id}/content`,
          headers: { authorization: `Bearer ${tenant.apiKey.key}` },
        },
        (response) => {
          const hash = createHash('sha256');
          let bytes = 0;
          response.on('data', (piece: Buffer) => {
            bytes += piece.length;
            hash.update(piece);
          });
          response.on('end', () => {
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              bytes,
              sha256: hash.digest('hex'),
            });
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
    });
    const readPeak = readSampler.stop();

    expect(received.status).toBe(200);
    expect(received.headers['content-length']).toBe(String(FILE_BYTES));
    expect(received.headers['x-content-sha256']).toBe(expected);
    expect(received.bytes).toBe(FILE_BYTES);
    expect(received.sha256).toBe(expected);

    for (const [phase, peak] of [
      ['write', writePeak],
      ['read', readPeak],
    ] as const) {
      expect(peak.samples, phase).toBeGreaterThan(2);
      expect(peak.rss - baseline.rss, `${phase} RSS growth`).toBeLessThan(MAX_GROWTH_BYTES);
      expect(peak.arrayBuffers - baseline.arrayBuffers, `${phase} ArrayBuffer growth`).toBeLessThan(
        MAX_GROWTH_BYTES,
      );
    }
    console.info(
      `100 MB file: write peak +${((writePeak.rss - baseline.rss) / 2 ** 20).toFixed(1)} MB RSS / +${((writePeak.arrayBuffers - baseline.arrayBuffers) / 2 ** 20).toFixed(1)} MB buffers; read peak +${((readPeak.rss - baseline.rss) / 2 ** 20).toFixed(1)} MB RSS / +${((readPeak.arrayBuffers - baseline.arrayBuffers) / 2 ** 20).toFixed(1)} MB buffers`,
    );
  }, 300_000);
});
