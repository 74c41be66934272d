import type { FastifyInstance, FastifyRequest } from 'fastify';

import { UnauthorizedError } from '../platform/errors.ts';
import { authenticateApiKey, type ApiKeyPrincipal } from '../core/organizations/api-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key's organization, set by `requireApiKey` on LexiContract API routes. */
    apiKey: ApiKeyPrincipal | null;
  }
}

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

/**
 * Adds `Authorization: Bearer <API key>` authentication to every route of the (encapsulated)
 * plugin it is called in. It runs `onRequest`, before any body is read, so an
 * unauthenticated caller costs one hash lookup and nothing else.
 */
export function requireApiKey(app: FastifyInstance): void {
  app.decorateRequest('apiKey', null);
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization;
    const presented = header === undefined ? undefined : BEARER.exec(header)?.[1];
    try {
      request.apiKey = await authenticateApiKey(app.db, presented);
    } catch (error) {
      if (error instanceof UnauthorizedError) void reply.header('www-authenticate', 'Bearer');
      throw error;
    }
  });
}

/** The authenticated principal; only call from routes behind `requireApiKey`. */
export function apiPrincipal(request: FastifyRequest): ApiKeyPrincipal {
  if (!request.apiKey) {
    throw new UnauthorizedError(
      'invalid_api_key',
      'A valid API key is required (Authorization: Bearer <key>)',
    );
  }
  return request.apiKey;
}

/** Audit actor string for an API key. */
export function apiActor(principal: ApiKeyPrincipal): string {
  return `api_key:${principal.prefix}`;
}
