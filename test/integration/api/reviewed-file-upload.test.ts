import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { writeContractFile } from '../../../server/src/core/contracts/contract-files.ts';
import { buildTestApp, testConfig } from '../../helpers/test-app.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { bytesSource, makeContract, makeTenant } from '../contracts/factories.ts';

const MAX_BYTES = 256 * 1024;
const database = await createTestDatabase();
const db = database.db;
const app = await buildTestApp({ db, config: { ...testConfig(), importMaxFileBytes: MAX_BYTES } });

const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3000, 7), Buffer.from('%%EOF')]);

function multipart(parts: { name: string; fileName?: string; body: Buffer | string }[]) {
  const boundary = `----lexi${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = part.fileName
      ? `form-data; name="${part.name}"; filename="${part.fileName}"`
      : `form-data; name="${part.name}"`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n` +
          (part.fileName ? 'Content-Type: application/octet-stream\r\n' : '') +
          '\r\n',
      ),
      Buffer.isBuffer(part.body) ? part.body : Buffer.from(part.body),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

async function setup() {
  const tenant = await makeTenant(db);
  const contract = await makeContract(db, tenant.organization.id);
  const imported = await writeContractFile(
    db,
    {
      organizationId: tenant.organization.id,
      contractId: contract.id,
      name: 'MSA.pdf',
      contentType: 'application/pdf',
      externalFileId: '777',
    },
    bytesSource(Buffer.from('%PDF-1.4 original')),
  );
  const auth = { authorization: `Bearer ${tenant.apiKey.key}` };
  return { tenant, contract, imported: imported.file, auth };
}

describe('POST /api/v1/contracts/:id/files', () => {
  it('stores a reviewed version that replaces the newest file, shown by GET with origin and replaces', async () => {
    const { contract, imported, auth } = await setup();
    const body = multipart([{ name: 'file', fileName: 'MSA - reviewed.pdf', body: PDF }]);
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/contracts/${contract.id}/files`,
      headers: { ...auth, ...body.headers },
      payload: body.payload,
    });
    expect(response.statusCode).toBe(201);
    const file = response.json<Record<string, unknown>>();
    expect(file).toMatchObject({
      name: 'MSA - reviewed.pdf',
      content_type: 'application/pdf',
      size_bytes: PDF.length,
      sha256: createHash('sha256').update(PDF).digest('hex'),
      origin: 'uploaded',
      replaces_file_id: imported.id,
      uploaded_by: expect.stringMatching(/^api_key:/) as unknown,
    });

    const detail = await app.inject({ url: `/api/v1/contracts/${contract.id}`, headers: auth });
    const files = detail.json<{ files: Record<string, unknown>[] }>().files;
    expect(files.map((f) => [f.origin, f.replaces_file_id])).toEqual([
      ['imported', null],
      ['uploaded', imported.id],
    ]);
    const content = await app.inject({ url: String(file.content_url), headers: auth });
    expect(content.rawPayload.equals(PDF)).toBe(true);
  });

  it('refuses what the import refuses, with the documented statuses', async () => {
    const { contract, auth } = await setup();
    const url = `/api/v1/contracts/${contract.id}/files`;
    const send = (body: { payload: Buffer; headers: Record<string, string> }) =>
      app.inject({
        method: 'POST',
        url,
        headers: { ...auth, ...body.headers },
        payload: body.payload,
      });

    const json = await app.inject({
      method: 'POST',
      url,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toEqual({
      error: { code: 'unsupported_media_type', message: expect.any(String) as unknown },
    });

    const exe = await send(multipart([{ name: 'file', fileName: 'tool.exe', body: 'MZ' }]));
    expect(exe.statusCode).toBe(415);
    expect(exe.json<{ error: { code: string } }>().error.code).toBe('file_type_not_allowed');

    const fakePdf = await send(
      multipart([{ name: 'file', fileName: 'x.pdf', body: 'PK\x03\x04zip' }]),
    );
    expect(fakePdf.statusCode).toBe(415);

    const big = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(MAX_BYTES, 1)]);
    const tooLarge = await send(multipart([{ name: 'file', fileName: 'big.pdf', body: big }]));
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json<{ error: { code: string } }>().error.code).toBe('file_too_large');

    const misnamed = await send(multipart([{ name: 'document', fileName: 'a.pdf', body: PDF }]));
    expect(misnamed.statusCode).toBe(400);
    const noFile = await send(multipart([{ name: 'note', body: 'hello' }]));
    expect(noFile.statusCode).toBe(400);

    const detail = await app.inject({ url: `/api/v1/contracts/${contract.id}`, headers: auth });
    expect(detail.json<{ files: unknown[] }>().files).toHaveLength(1);
    const partial = await db
      .selectFrom('contract_files')
      .select('id')
      .where('contract_id', '=', contract.id)
      .execute();
    expect(partial).toHaveLength(1);
  });

  it('answers 404 for another organization’s contract', async () => {
    const { contract } = await setup();
    const other = await makeTenant(db);
    const body = multipart([{ name: 'file', fileName: 'a.pdf', body: PDF }]);
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/contracts/${contract.id}/files`,
      headers: { authorization: `Bearer ${other.apiKey.key}`, ...body.headers },
      payload: body.payload,
    });
    expect(response.statusCode).toBe(404);
  });
});
