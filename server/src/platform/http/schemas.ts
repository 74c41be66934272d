import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * Routes declare zod schemas: requests are validated by them and responses serialized by
 * them (unknown keys of a response object are dropped, so nothing extra leaks). A route
 * that declares no `schema` is untouched: Fastify calls the compilers only for the schema
 * parts a route declares.
 */
export function useZodSchemas(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
}

/** The error envelope every route answers with; `details` only on some codes. */
export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable snake_case code, e.g. `contract_not_found`'),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

const REQUEST_PART: Record<string, string> = {
  body: 'request body',
  querystring: 'query parameters',
  params: 'path parameters',
  headers: 'request headers',
};

/** What a validation failure of a request part is called in the answer ("Invalid request body"). */
export function requestPartName(context: string | undefined): string {
  return (context !== undefined ? REQUEST_PART[context] : undefined) ?? 'request';
}

/**
 * Fastify schema-validation issues → the field details `parseInput` gives (`a.b`, or
 * `(root)` for the object itself, e.g. an unknown key of a strict object).
 */
export function validationIssues(
  issues: readonly FastifySchemaValidationError[],
): { path: string; message: string }[] {
  return issues.map((issue) => ({
    path: issue.instancePath.split('/').filter(Boolean).join('.') || '(root)',
    message: issue.message ?? 'is invalid',
  }));
}
