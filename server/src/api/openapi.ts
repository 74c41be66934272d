import type { SwaggerOptions, SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/**
 * The type provider emits every schema with an `id` twice (as input and as output); this
 * keeps only the components the document's operations reach, directly or through another
 * component.
 */
const reachableComponentsOnly: SwaggerTransformObject = (document) => {
  const openapi = jsonSchemaTransformObject(document) as {
    paths?: unknown;
    components?: { schemas?: Record<string, unknown> };
  };
  const all = openapi.components?.schemas ?? {};
  const prefix = '#/components/schemas/';
  const kept = new Set<string>();
  const queue: unknown[] = [openapi.paths];
  while (queue.length > 0) {
    const node = queue.pop();
    if (Array.isArray(node)) queue.push(...(node as unknown[]));
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && value.startsWith(prefix)) {
          const name = value.slice(prefix.length);
          if (!kept.has(name)) {
            kept.add(name);
            queue.push(all[name]);
          }
        } else queue.push(value);
      }
    }
  }
  const schemas = Object.fromEntries(Object.entries(all).filter(([name]) => kept.has(name)));
  return {
    ...openapi,
    components: { ...openapi.components, schemas },
  } as ReturnType<SwaggerTransformObject>;
};

/** `@fastify/swagger` options for the REST API's OpenAPI 3.1 document. */
export function restApiOpenapi(publicBaseUrl: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'LexiContract REST API',
        version: '1',
        description: 'The contracts of the organization that owns the API key (SPEC §5).',
      },
      servers: [{ url: publicBaseUrl }],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An organization API key' },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: reachableComponentsOnly,
  };
}
