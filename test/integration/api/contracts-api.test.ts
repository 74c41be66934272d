import { createHash, randomBytes } from 'node:crypto';

import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

import { lexiContractApi } from '../../../server/src/api/routes.ts';
import { writeContractFile } from '../../../server/src/core/contracts/contract-files.ts';
import { installErrorHandler } from '../../../server/src/platform/http/error-handler.ts';
import { useZodSchemas } from '../../../server/src/platform/http/schemas.ts';
import { buildTestApp, testConfig } from '../../helpers/test-app.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { bytesSource, makeContract, makeTenant, type Tenant } from '../contracts/factories.ts';

const database = await createTestDatabase();
const db = database.db;
const app = await buildTestApp({ db });

const auth = (tenant: Tenant) => ({ authorization: `Bearer ${tenant.apiKey.key}` });

async function contractRow(id: string) {
  return db.selectFrom('contracts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Two organizations, each with a contract that has one file. */
async function twoTenants() {
  const a = await makeTenant(db, 'Alpha');
  const b = await makeTenant(db, 'Bravo');
  const contractA = await makeContract(db, a.organization.id, { title: 'Alpha MSA' });
  const contractB = await makeContract(db, b.organization.id, {
    title: 'Bravo secret terms',
    externalId: 'bravo-deal-1',
  });
  const fileA = await writeContractFile(
    db,
    {
      organizationId: a.organization.id,
      contractId: contractA.id,
      name: 'alpha.pdf',
      contentType: 'application/pdf',
    },
    bytesSource(Buffer.from('alpha bytes')),
  );
  const fileB = await writeContractFile(
    db,
    {
      organizationId: b.organization.id,
      contractId: contractB.id,
      name: 'bravo.pdf',
      contentType: 'application/pdf',
    },
    bytesSource(Buffer.from('bravo confidential bytes')),
  );
  return { a, b, contractA, contractB, fileA: fileA.file, fileB: fileB.file };
}

describe('authentication', () => {
  it('answers 401 with the error envelope on every route without a valid key', async () => {
    const { a, contractA, fileA } = await twoTenants();
    const revoked = await makeTenant(db, 'Revoked');
    await db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', revoked.apiKey.id)
      .execute();
    const routes = [
      { method: 'GET' as const, url: '/api/v1/contracts' },
      { method: 'GET' as const, url: `/api/v1/contracts/${contractA.id}` },
      {
        method: 'PATCH' as const,
        url: `/api/v1/contracts/${contractA.id}`,
        payload: { negotiation_status: 'in_review' },
      },
      {
        method: 'GET' as const,
        url: `/api/v1/contracts/${contractA.id}/files/${fileA.id}/content`,
      },
    ];
    const badHeaders: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: `Basic ${a.apiKey.key}` },
      { authorization: `Bearer ${a.apiKey.key}x` },
      { authorization: 'Bearer lxc_not-a-real-key' },
      { authorization: `Bearer ${revoked.apiKey.key}` },
    ];
    for (const route of routes) {
      for (const headers of badHeaders) {
        const response = await app.inject({ ...route, headers });
        expect(response.statusCode, `${route.method} ${route.url} ${JSON.stringify(headers)}`).toBe(
          401,
        );
        expect(response.headers['www-authenticate']).toBe('Bearer');
        const body = response.json<{ error: { code: string; message: string } }>();
        expect(body.error.code).toBe('invalid_api_key');
        expect(response.body).not.toContain('Alpha');
        expect(response.body).not.toContain('alpha bytes');
      }
    }
    expect((await contractRow(contractA.id)).negotiation_status).toBe('pending_review');
  });

  it('accepts the key with any casing of the Bearer scheme', async () => {
    const { a } = await twoTenants();
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/contracts',
      headers: { authorization: `bearer ${a.apiKey.key}` },
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('tenant isolation', () => {
  it('GET /contracts lists only the caller organization’s contracts', async () => {
    const { a, b, contractA, contractB } = await twoTenants();
    const listA = await app.inject({ method: 'GET', url: '/api/v1/contracts', headers: auth(a) });
    expect(listA.statusCode).toBe(200);
    const idsA = listA.json<{ data: { id: string }[] }>().data.map((c) => c.id);
    expect(idsA).toEqual([contractA.id]);
    expect(listA.body).not.toContain('Bravo');

    const byExternal = await app.inject({
      method: 'GET',
      url: '/api/v1/contracts?external_id=bravo-deal-1',
      headers: auth(a),
    });
    expect(byExternal.json()).toEqual({ data: [], next_cursor: null });

    const listB = await app.inject({
      method: 'GET',
      url: '/api/v1/contracts?external_id=bravo-deal-1',
      headers: auth(b),
    });
    expect(listB.json<{ data: { id: string }[] }>().data.map((c) => c.id)).toEqual([contractB.id]);
  });

  it('GET /contracts/:id answers 404 for another organization’s contract, never its data', async () => {
    const { a, b, contractA, contractB } = await twoTenants();
    const cross = await app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${contractB.id}`,
      headers: auth(a),
    });
    expect(cross.statusCode).toBe(404);
    expect(cross.json<{ error: { code: string } }>().error.code).toBe('contract_not_found');
    expect(cross.body).not.toContain('Bravo');
    expect(cross.body).not.toContain('bravo.pdf');

    // Same answer as for an id that exists nowhere.
    const missing = await app.inject({
      method: 'GET',
      url: '/api/v1/contracts/00000000-0000-4000-8000-000000000000',
      headers: auth(a),
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ error: { code: string } }>().error.code).toBe('contract_not_found');

    const own = await app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${contractB.id}`,
      headers: auth(b),
    });
    expect(own.statusCode).toBe(200);
    expect(own.json<{ title: string }>().title).toBe('Bravo secret terms');
    const ownA = await app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${contractA.id}`,
      headers: auth(a),
    });
    expect(ownA.statusCode).toBe(200);
  });

  it('PATCH /contracts/:id answers 404 for another organization’s contract and changes nothing', async () => {
    const { a, contractB } = await twoTenants();
    const before = await contractRow(contractB.id);
    const cross = await app.inject({
      method: 'PATCH',
      url: `/api/v1/contracts/${contractB.id}`,
      headers: auth(a),
      payload: { negotiation_status: 'in_review' },
    });
    expect(cross.statusCode).toBe(404);
    expect(cross.json<{ error: { code: string } }>().error.code).toBe('contract_not_found');
    expect(cross.body).not.toContain('Bravo');
    expect(await contractRow(contractB.id)).toEqual(before);
    const history = await db
      .selectFrom('contract_status_changes')
      .select('id')
      .where('contract_id', '=', contractB.id)
      .execute();
    expect(history).toHaveLength(1);
  });

  it('GET file content answers 404 for another organization’s file, never its bytes', async () => {
    const { a, b, contractA, contractB, fileA, fileB } = await twoTenants();
    const cross = await app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${contractB.id}/files/${fileB.id}/content`,
      headers: auth(a),
    });
    expect(cross.statusCode).toBe(404);
    expect(cross.json<{ error: { code: string } }>().error.code).toBe('contract_not_found');
    expect(cross.body).not.toContain('bravo confidential');

    // Own contract id with the other organization's file id.
    const mixed = await app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${contractA.id}/files/${fileB.id}/content`,
      headers: auth(a),
    });
    expect(mixed.statusCode).toBe(404);
    expect(mixed.json<{ error: { code: string } }>().error.code).toBe('contract_file_not_found');
    expect(mixed.body).not.toContain('bravo confidential');

    const own = await app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${contractB.id}/files/${fileB.id}/content`,
      headers: auth(b),
    });
    expect(own.statusCode).toBe(200);
    expect(own.body).toBe('bravo confidential bytes');
    const ownA = await app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${contractA.id}/files/${fileA.id}/content`,
      headers: auth(a),
    });
    expect(ownA.body).toBe('alpha bytes');
  });
});

describe('GET /api/v1/contracts', () => {
  it('paginates with next_cursor and filters by status', async () => {
    const tenant = await makeTenant(db);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await makeContract(db, tenant.organization.id)).id);
    const seen: string[] = [];
    let url = '/api/v1/contracts?limit=2';
    for (let page = 0; page < 10; page += 1) {
      const response = await app.inject({ method: 'GET', url, headers: auth(tenant) });
      expect(response.statusCode).toBe(200);
      const body = response.json<{ data: { id: string }[]; next_cursor: string | null }>();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((c) => c.id));
      if (!body.next_cursor) break;
      url = `/api/v1/contracts?limit=2&cursor=${encodeURIComponent(body.next_cursor)}`;
    }
    expect(seen).toEqual([...ids].reverse());

    const inReview = await app.inject({
      method: 'GET',
      url: '/api/v1/contracts?status=in_review',
      headers: auth(tenant),
    });
    expect(inReview.json()).toEqual({ data: [], next_cursor: null });
  });

  it('answers 400 with field details for bad query parameters', async () => {
    const tenant = await makeTenant(db);
    const cases: [string, string][] = [
      ['/api/v1/contracts?status=done', 'status'],
      ['/api/v1/contracts?limit=0', 'limit'],
      ['/api/v1/contracts?limit=abc', 'limit'],
      ['/api/v1/contracts?limit=100000', 'limit'],
      ['/api/v1/contracts?externalId=1', '(root)'],
      ['/api/v1/contracts?cursor=not-a-cursor', 'cursor'],
      ['/api/v1/contracts?status=approved&status=signed', 'status'],
    ];
    for (const [url, path] of cases) {
      const response = await app.inject({ method: 'GET', url, headers: auth(tenant) });
      expect(response.statusCode, url).toBe(400);
      const body = response.json<{
        error: { code: string; message: string; details: { path: string }[] };
      }>();
      expect(body.error.code, url).toBe('invalid_request');
      expect(
        body.error.details.map((d) => d.path),
        url,
      ).toContain(path);
    }
  });
});

describe('GET /api/v1/contracts/:id', () => {
  it('returns files, deal snapshot and status history', async () => {
    const tenant = await makeTenant(db);
    const contract = await makeContract(db, tenant.organization.id, {
      externalId: 'deal-42',
      sourceSnapshot: { dealname: 'Globex', amount: '5000', pipeline: 'default' },
    });
    const file = await writeContractFile(
      db,
      {
        organizationId: tenant.organization.id,
        contractId: contract.id,
        name: 'globex.pdf',
        contentType: 'application/pdf',
      },
      bytesSource(Buffer.from('%PDF-globex')),
    );
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${contract.id}`,
      headers: auth(tenant),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: contract.id,
      title: contract.title,
      negotiation_status: 'pending_review',
      status_version: 1,
      external_source: 'hubspot',
      external_id: 'deal-42',
      external_account_id: '123456',
      created_by_source: 'test',
      created_by: 'system',
      created_at: contract.createdAt.toISOString(),
      updated_at: contract.updatedAt.toISOString(),
      source_snapshot: { dealname: 'Globex', amount: '5000', pipeline: 'default' },
      metadata: {},
      metadata_mapping_version: null,
      files: [
        {
          id: file.file.id,
          name: 'globex.pdf',
          content_type: 'application/pdf',
          size_bytes: 11,
          sha256: createHash('sha256').update('%PDF-globex').digest('hex'),
          external_file_id: null,
          origin: 'imported',
          replaces_file_id: null,
          uploaded_by: null,
          created_at: file.file.createdAt.toISOString(),
          content_url: `/api/v1/contracts/${contract.id}/files/${file.file.id}/content`,
        },
      ],
      status_history: [
        {
          from: null,
          to: 'pending_review',
          source: 'test',
          actor: 'system',
          at: expect.any(String) as unknown,
        },
      ],
    });
  });

  it('answers 404 contract_not_found for an id that is not a uuid', async () => {
    const tenant = await makeTenant(db);
    for (const id of ['abc', '1', 'null', '00000000-0000-0000-0000-00000000000g']) {
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/contracts/${id}`,
        headers: auth(tenant),
      });
      expect(response.statusCode, id).toBe(404);
      expect(response.json<{ error: { code: string } }>().error.code).toBe('contract_not_found');
    }
  });
});

describe('PATCH /api/v1/contracts/:id', () => {
  it('changes the status and records who did it', async () => {
    const tenant = await makeTenant(db);
    const contract = await makeContract(db, tenant.organization.id);
    const response = await app.inject({
      method: 'PATCH',
      url: `/api/v1/contracts/${contract.id}`,
      headers: auth(tenant),
      payload: { negotiation_status: 'in_review' },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{
      negotiation_status: string;
      status_version: number;
      status_history: { from: string | null; to: string; source: string; actor: string }[];
    }>();
    expect(body.negotiation_status).toBe('in_review');
    expect(body.status_version).toBe(2);
    expect(body.status_history.at(-1)).toMatchObject({
      from: 'pending_review',
      to: 'in_review',
      source: 'api',
      actor: `api_key:${tenant.apiKey.prefix}`,
    });
    expect((await contractRow(contract.id)).negotiation_status).toBe('in_review');
  });

  it('answers 409 invalid_status_transition for a refused change', async () => {
    const tenant = await makeTenant(db);
    const contract = await makeContract(db, tenant.organization.id);
    const response = await app.inject({
      method: 'PATCH',
      url: `/api/v1/contracts/${contract.id}`,
      headers: auth(tenant),
      payload: { negotiation_status: 'signed' },
    });
    expect(response.statusCode).toBe(409);
    const body = response.json<{ error: { code: string; message: string; details: unknown } }>();
    expect(body.error.code).toBe('invalid_status_transition');
    expect(body.error.message).toContain('pending_review');
    expect(body.error.message).toContain('signed');
    expect(body.error.details).toEqual({
      from: 'pending_review',
      to: 'signed',
      allowed_next_statuses: ['in_review', 'rejected', 'cancelled'],
    });
    expect((await contractRow(contract.id)).negotiation_status).toBe('pending_review');
  });

  it('answers 400 with field details for a bad body, including an unknown field', async () => {
    const tenant = await makeTenant(db);
    const contract = await makeContract(db, tenant.organization.id);
    const cases: [unknown, string][] = [
      [{ negotiation_status: 'in_review', title: 'renamed' }, '(root)'],
      [{ negotiation_status: 'in_review', organization_id: tenant.organization.id }, '(root)'],
      [{}, 'negotiation_status'],
      [{ negotiation_status: 'done' }, 'negotiation_status'],
      [{ negotiation_status: 3 }, 'negotiation_status'],
      [{ status: 'in_review' }, 'negotiation_status'],
      [['in_review'], '(root)'],
    ];
    for (const [payload, path] of cases) {
      const response = await app.inject({
        method: 'PATCH',
        url: `/api/v1/contracts/${contract.id}`,
        headers: auth(tenant),
        payload: payload as object,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      const body = response.json<{
        error: { code: string; details: { path: string; message: string }[] };
      }>();
      expect(body.error.code).toBe('invalid_request');
      expect(
        body.error.details.map((d) => d.path),
        JSON.stringify(payload),
      ).toContain(path);
    }
    const unknownField = await app.inject({
      method: 'PATCH',
      url: `/api/v1/contracts/${contract.id}`,
      headers: auth(tenant),
      payload: { negotiation_status: 'in_review', title: 'renamed' },
    });
    expect(unknownField.body).toContain('title');

    const notJson = await app.inject({
      method: 'PATCH',
      url: `/api/v1/contracts/${contract.id}`,
      headers: { ...auth(tenant), 'content-type': 'application/json' },
      payload: '{"negotiation_status":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json<{ error: { code: string } }>().error.code).toBe('invalid_json');

    const row = await contractRow(contract.id);
    expect(row).toMatchObject({ negotiation_status: 'pending_review', title: contract.title });
  });

  it('runs the contract hooks given to the plugin inside the change transaction', async () => {
    const tenant = await makeTenant(db);
    const contract = await makeContract(db, tenant.organization.id);
    const calls: string[] = [];
    let failNext = false;
    const bare = Fastify({ logger: false });
    bare.decorate('config', testConfig());
    bare.decorate('db', db);
    installErrorHandler(bare);
    useZodSchemas(bare);
    await bare.register(lexiContractApi, {
      prefix: '/api/v1',
      contractHooks: {
        onStatusChanged: async (trx, changed) => {
          calls.push(`${changed.change.from ?? ''}->${changed.change.to}`);
          const inside = await trx
            .selectFrom('contracts')
            .select('negotiation_status')
            .where('id', '=', changed.contract.id)
            .executeTakeFirstOrThrow();
          expect(inside.negotiation_status).toBe(changed.change.to);
          if (failNext) throw new Error('outbox unavailable');
        },
      },
    });
    try {
      const ok = await bare.inject({
        method: 'PATCH',
        url: `/api/v1/contracts/${contract.id}`,
        headers: auth(tenant),
        payload: { negotiation_status: 'in_review' },
      });
      expect(ok.statusCode).toBe(200);
      failNext = true;
      const failed = await bare.inject({
        method: 'PATCH',
        url: `/api/v1/contracts/${contract.id}`,
        headers: auth(tenant),
        payload: { negotiation_status: 'approved' },
      });
      expect(failed.statusCode).toBe(500);
      expect(failed.json()).toEqual({
        error: { code: 'internal_error', message: 'Something went wrong on our side.' },
      });
      expect(calls).toEqual(['pending_review->in_review', 'in_review->approved']);
      expect(await contractRow(contract.id)).toMatchObject({
        negotiation_status: 'in_review',
        status_version: 2,
      });
    } finally {
      await bare.close();
    }
  });
});

describe('GET /api/v1/contracts/:id/files/:fileId/content', () => {
  it('streams the bytes with type, length, attachment disposition and sha256 etag', async () => {
    const tenant = await makeTenant(db);
    const contract = await makeContract(db, tenant.organization.id);
    const bytes = randomBytes(2 * 1024 * 1024 + 17);
    const digest = createHash('sha256').update(bytes).digest('hex');
    const stored = await writeContractFile(
      db,
      {
        organizationId: tenant.organization.id,
        contractId: contract.id,
        name: 'Vertrag "Müller"; final.pdf',
        contentType: 'application/pdf',
      },
      bytesSource(bytes),
    );
    const url = `/api/v1/contracts/${contract.id}/files/${stored.file.id}/content`;
    const response = await app.inject({ method: 'GET', url, headers: auth(tenant) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-length']).toBe(String(bytes.length));
    expect(response.headers['etag']).toBe(`"${digest}"`);
    expect(response.headers['x-content-sha256']).toBe(digest);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="Vertrag _M_ller_; final.pdf"; filename*=UTF-8''Vertrag%20%22M%C3%BCller%22%3B%20final.pdf`,
    );
    expect(response.rawPayload.equals(bytes)).toBe(true);

    const notModified = await app.inject({
      method: 'GET',
      url,
      headers: { ...auth(tenant), 'if-none-match': `"${digest}"` },
    });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.rawPayload.length).toBe(0);
  });

  it('answers 404 for an unknown or malformed file id', async () => {
    const tenant = await makeTenant(db);
    const contract = await makeContract(db, tenant.organization.id);
    for (const fileId of ['00000000-0000-4000-8000-000000000000', 'abc']) {
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/contracts/${contract.id}/files/${fileId}/content`,
        headers: auth(tenant),
      });
      expect(response.statusCode).toBe(404);
      expect(response.json<{ error: { code: string } }>().error.code).toBe(
        'contract_file_not_found',
      );
    }
  });
});
