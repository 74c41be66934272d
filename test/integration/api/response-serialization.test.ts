import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

import { ContractDetailSchema } from '../../../server/src/api/schemas.ts';
import { presentContractDetail } from '../../../server/src/api/presenters.ts';
import { writeContractFile } from '../../../server/src/core/contracts/contract-files.ts';
import { getContractDetail } from '../../../server/src/core/contracts/contracts-service.ts';
import { installErrorHandler } from '../../../server/src/platform/http/error-handler.ts';
import { useZodSchemas } from '../../../server/src/platform/http/schemas.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { bytesSource, makeContract, makeTenant } from '../contracts/factories.ts';

const database = await createTestDatabase();
const db = database.db;

/** A real contract detail, presented, with internal fields added at every level. */
async function detailWithInternalFields() {
  const tenant = await makeTenant(db);
  const contract = await makeContract(db, tenant.organization.id);
  await writeContractFile(
    db,
    {
      organizationId: tenant.organization.id,
      contractId: contract.id,
      name: 'msa.pdf',
      contentType: 'application/pdf',
    },
    bytesSource(Buffer.from('%PDF-msa')),
  );
  const detail = await getContractDetail(db, tenant.organization.id, contract.id);
  const presented = presentContractDetail(detail);
  const internal = {
    ...presented,
    organization_id: 'org-internal-1',
    files: presented.files.map((file) => ({ ...file, storage_key: 'internal-storage-key' })),
    status_history: presented.status_history.map((change) => ({
      ...change,
      internal_note: 'internal-note',
    })),
  };
  return { presented, internal };
}

/** The project's compilers and error handler, one route answering `internal`. */
async function appAnswering(internal: unknown, withResponseSchema: boolean) {
  const app = Fastify({ logger: false });
  installErrorHandler(app);
  useZodSchemas(app);
  app.get(
    '/detail',
    withResponseSchema ? { schema: { response: { 200: ContractDetailSchema } } } : {},
    () => internal,
  );
  await app.ready();
  return app;
}

describe('response serialization from the declared schema', () => {
  it('drops fields the response schema does not list, at every level', async () => {
    const { presented, internal } = await detailWithInternalFields();

    // Control: without the schema, the internal fields would reach the caller.
    const bare = await appAnswering(internal, false);
    const leaked = await bare.inject({ method: 'GET', url: '/detail' });
    await bare.close();
    expect(leaked.body).toContain('org-internal-1');
    expect(leaked.body).toContain('internal-storage-key');

    const app = await appAnswering(internal, true);
    const response = await app.inject({ method: 'GET', url: '/detail' });
    await app.close();
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('organization_id');
    expect(response.body).not.toContain('org-internal-1');
    expect(response.body).not.toContain('internal-storage-key');
    expect(response.body).not.toContain('internal-note');
    expect(response.json()).toEqual(presented);
  });

  it('answers 500 internal_error, never a half-checked body, when the object misses a field', async () => {
    const withoutTitle: Record<string, unknown> = {
      ...(await detailWithInternalFields()).internal,
    };
    delete withoutTitle.title;
    const app = await appAnswering(withoutTitle, true);
    const response = await app.inject({ method: 'GET', url: '/detail' });
    await app.close();
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side.' },
    });
  });
});
