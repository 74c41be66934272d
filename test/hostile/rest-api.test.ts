import { Readable } from 'node:stream';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { writeContractFile } from '../../server/src/core/contracts/contract-files.ts';
import { createContract } from '../../server/src/core/contracts/contracts-service.ts';
import { createApiKey } from '../../server/src/core/organizations/api-keys.ts';
import { createOrganization } from '../../server/src/core/organizations/organizations.ts';
import { buildTestApp } from '../helpers/test-app.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import {
  bodyBitFlip,
  deepJson,
  headerBitFlip,
  headerDrop,
  hugeBody,
  pathBitFlip,
  queryReorder,
  queryValueChange,
  wrongContentType,
  type RequestSpec,
} from './mutations.ts';

const database = await createTestDatabase();
const app = await buildTestApp({ db: database.db });

async function tenant(name: string) {
  const org = await createOrganization(database.db, name);
  const key = await createApiKey(database.db, org.id, 'hostile');
  const contract = await createContract(database.db, {
    organizationId: org.id,
    title: `${name} secret MSA`,
    createdBySource: 'api',
    actor: 'test',
  });
  const { file } = await writeContractFile(
    database.db,
    {
      organizationId: org.id,
      contractId: contract.id,
      name: `${name}.pdf`,
      contentType: 'application/pdf',
    },
    Readable.from([Buffer.from(`%PDF-1.4 ${name} only`)]),
  );
  return { org, key: key.key, contract, file };
}

const a = await tenant('Alpha');
const b = await tenant('Bravo');

function validRequests(): RequestSpec[] {
  const auth = { authorization: `Bearer ${a.key}` };
  return [
    { method: 'GET', url: `/api/v1/contracts?status=pending_review&external_id=1`, headers: auth },
    { method: 'GET', url: `/api/v1/contracts/${a.contract.id}`, headers: auth },
    {
      method: 'GET',
      url: `/api/v1/contracts/${a.contract.id}/files/${a.file.id}/content`,
      headers: auth,
    },
    {
      method: 'PATCH',
      url: `/api/v1/contracts/${a.contract.id}`,
      headers: { ...auth, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ negotiation_status: 'in_review' })),
    },
  ];
}

const mutation = fc.oneof(
  bodyBitFlip,
  pathBitFlip,
  queryValueChange,
  queryReorder,
  headerDrop(['authorization', 'content-type']),
  headerBitFlip(['authorization']),
  wrongContentType,
  hugeBody,
  deepJson,
  // Another organization's ids with this organization's key.
  fc.constant({
    name: 'other tenant ids',
    apply: (spec: RequestSpec): RequestSpec => ({
      ...spec,
      url: spec.url.replaceAll(a.contract.id, b.contract.id).replaceAll(a.file.id, b.file.id),
    }),
  }),
);

async function bravoUnchanged(): Promise<void> {
  const row = await database.db
    .selectFrom('contracts')
    .select(['negotiation_status', 'status_version'])
    .where('id', '=', b.contract.id)
    .executeTakeFirstOrThrow();
  expect(row).toEqual({ negotiation_status: 'pending_review', status_version: 1 });
}

describe('REST API under hostile input', () => {
  it('never answers 5xx, never leaks another tenant, never changes another tenant (2,000 mutations)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (which, m) => {
        const requests = validRequests();
        const base = requests[which % requests.length];
        if (!base) throw new Error('no request');
        const spec = m.apply(base);
        const response = await app.inject({
          method: spec.method,
          url: spec.url,
          headers: spec.headers,
          ...(spec.body ? { payload: spec.body } : {}),
        });
        expect(response.statusCode, `${m.name} → ${response.statusCode}`).toBeLessThan(500);
        // Echoing an id the caller sent reveals nothing; Bravo's data must never appear.
        expect(response.body).not.toContain('Bravo secret MSA');
        expect(response.body).not.toContain('Bravo only');
        if (response.statusCode >= 400) {
          const code = response.json<{ error?: { code?: string } }>().error?.code;
          expect(code, `${m.name} → ${response.statusCode} ${response.body.slice(0, 200)}`).toMatch(
            /^[a-z_]+$/,
          );
        }
      }),
      { numRuns: 2_000 },
    );
    await bravoUnchanged();
  });
});

describe('REST API bodies are JSON only', () => {
  it('answers 415 unsupported_media_type to a form, text or multipart PATCH and changes nothing', async () => {
    // Its own tenant: the mutations above may have moved Alpha's contract already.
    const c = await tenant('Charlie');
    const row = () =>
      database.db
        .selectFrom('contracts')
        .select(['negotiation_status', 'status_version'])
        .where('id', '=', c.contract.id)
        .executeTakeFirstOrThrow();
    expect(await row()).toEqual({ negotiation_status: 'pending_review', status_version: 1 });
    const bodies: [string, string][] = [
      // A cross-site page can post this one; it changed the contract before.
      ['application/x-www-form-urlencoded', 'negotiation_status=in_review'],
      ['text/plain', JSON.stringify({ negotiation_status: 'in_review' })],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="negotiation_status"\r\n\r\nin_review\r\n--x--\r\n',
      ],
    ];
    for (const [type, payload] of bodies) {
      const response = await app.inject({
        method: 'PATCH',
        url: `/api/v1/contracts/${c.contract.id}`,
        headers: { authorization: `Bearer ${c.key}`, 'content-type': type },
        payload,
      });
      expect(response.statusCode, type).toBe(415);
      expect(response.json<{ error: { code: string } }>().error.code, type).toBe(
        'unsupported_media_type',
      );
    }
    expect(await row()).toEqual({ negotiation_status: 'pending_review', status_version: 1 });
    const history = await database.db
      .selectFrom('contract_status_changes')
      .select('id')
      .where('contract_id', '=', c.contract.id)
      .execute();
    expect(history).toHaveLength(1);

    // JSON, with or without a charset, is still how the status changes.
    const json = await app.inject({
      method: 'PATCH',
      url: `/api/v1/contracts/${c.contract.id}`,
      headers: {
        authorization: `Bearer ${c.key}`,
        'content-type': 'application/json; charset=utf-8',
      },
      payload: JSON.stringify({ negotiation_status: 'in_review' }),
    });
    expect(json.statusCode).toBe(200);
    expect(await row()).toEqual({ negotiation_status: 'in_review', status_version: 2 });
  });
});
