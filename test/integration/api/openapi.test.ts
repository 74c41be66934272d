import { describe, expect, it } from 'vitest';

import { writeContractFile } from '../../../server/src/core/contracts/contract-files.ts';
import { buildTestApp } from '../../helpers/test-app.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { bytesSource, makeContract, makeTenant } from '../contracts/factories.ts';

const database = await createTestDatabase();
const db = database.db;
const app = await buildTestApp({ db });

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
}

interface OpenApiDocument {
  openapi: string;
  servers: { url: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, { type: string; scheme: string }>;
  };
}

async function openapiDocument(): Promise<OpenApiDocument> {
  // Public on purpose: no Authorization header.
  const response = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return response.json<OpenApiDocument>();
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

/**
 * The few JSON Schema keywords the document uses, checked strictly: every documented
 * required key present, no undocumented key, types and enums respected. Returns the
 * problems found, `path: problem`.
 */
function violations(
  value: unknown,
  schema: JsonSchema,
  components: Record<string, JsonSchema>,
  path = '$',
): string[] {
  if (schema.$ref !== undefined) {
    const target = components[schema.$ref.replace('#/components/schemas/', '')];
    if (!target) return [`${path}: unresolved ${schema.$ref}`];
    return violations(value, target, components, path);
  }
  if (schema.anyOf) {
    const fits = schema.anyOf.some((s) => violations(value, s, components, path).length === 0);
    return fits ? [] : [`${path}: matches no alternative`];
  }
  const problems: string[] = [];
  if (schema.type !== undefined) {
    const allowed = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = jsonType(value);
    const ok = allowed.includes(actual) || (actual === 'integer' && allowed.includes('number'));
    if (!ok) return [`${path}: ${actual}, documented ${allowed.join('|')}`];
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${path}: not in enum`);
  if (schema.properties && value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!(key in record)) problems.push(`${path}.${key}: required, missing`);
    }
    for (const [key, item] of Object.entries(record)) {
      const property = schema.properties[key];
      if (!property) problems.push(`${path}.${key}: not documented`);
      else problems.push(...violations(item, property, components, `${path}.${key}`));
    }
  }
  if (schema.items && Array.isArray(value)) {
    value.forEach((item, i) => {
      if (schema.items)
        problems.push(...violations(item, schema.items, components, `${path}[${i}]`));
    });
  }
  return problems;
}

function okResponseSchema(document: OpenApiDocument, path: string, method: string): JsonSchema {
  const response = document.paths[path]?.[method]?.responses['200'] as
    { content: { 'application/json': { schema: JsonSchema } } } | undefined;
  const schema = response?.content['application/json'].schema;
  if (!schema) throw new Error(`no documented 200 JSON response for ${method} ${path}`);
  return schema;
}

describe('GET /api/v1/openapi.json', () => {
  it('documents exactly the /api/v1/contracts routes with their methods, behind bearer auth', async () => {
    const document = await openapiDocument();
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: 'https://lexicontract.test' }]);
    expect(document.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }) as unknown,
    });
    expect(document.security).toEqual([{ apiKey: [] }]);
    // Each shape once, as the API answers it (no unused request-side copies).
    expect(Object.keys(document.components.schemas).sort()).toEqual([
      'Contract',
      'ContractDetail',
      'ContractFile',
      'ContractList',
      'Error',
      'StatusChange',
    ]);

    const operations = Object.entries(document.paths).map(
      ([path, methods]) => `${Object.keys(methods).sort().join(',')} ${path}`,
    );
    // No HubSpot-facing, web, health or documentation route in the REST API's document.
    expect(operations.sort()).toEqual([
      'get /api/v1/contracts',
      'get /api/v1/contracts/{id}/files/{fileId}/content',
      'get,patch /api/v1/contracts/{id}',
      'post /api/v1/contracts/{id}/files',
    ]);
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const method of Object.keys(methods)) {
        const url = path.replace('{id}', ':id').replace('{fileId}', ':fileId');
        expect(app.hasRoute({ method: method.toUpperCase(), url }), url).toBe(true);
      }
    }
  });

  it('documents the answer GET /api/v1/contracts/:id really gives, key for key', async () => {
    const document = await openapiDocument();
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
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${contract.id}`,
      headers: { authorization: `Bearer ${tenant.apiKey.key}` },
    });
    expect(response.statusCode).toBe(200);
    const answer = response.json<{ files: unknown[]; status_history: unknown[] }>();
    // Non-empty arrays, so their item schemas are checked too.
    expect(answer.files).toHaveLength(1);
    expect(answer.status_history).toHaveLength(1);

    const schema = okResponseSchema(document, '/api/v1/contracts/{id}', 'get');
    expect(violations(answer, schema, document.components.schemas)).toEqual([]);
    // The checker is not vacuous: an undocumented or a missing key is reported.
    expect(violations({ ...answer, extra: 1 }, schema, document.components.schemas)).toEqual([
      '$.extra: not documented',
    ]);
    const partial: Record<string, unknown> = { ...answer };
    delete partial.status_history;
    expect(violations(partial, schema, document.components.schemas)).toEqual([
      '$.status_history: required, missing',
    ]);

    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/contracts',
      headers: { authorization: `Bearer ${tenant.apiKey.key}` },
    });
    const listSchema = okResponseSchema(document, '/api/v1/contracts', 'get');
    expect(violations(list.json(), listSchema, document.components.schemas)).toEqual([]);
  });
});
