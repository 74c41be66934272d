import type { FastifyInstance } from 'fastify';

import { notFound } from './errors.ts';

/**
 * HubSpot's date versions the sandbox answers. Routes take the version as a `:version`
 * parameter; a version HubSpot does not publish for that endpoint is a 404, as it would be
 * at HubSpot.
 */
export const SERVED_API_VERSIONS = ['2026-03', '2026-09'] as const;

/**
 * Endpoints whose 2026-09 document does not have them: the files endpoints the app uses
 * (the 2026-09 files document only has search, import-from-url and folders) and the GET
 * that lists one record's associations (2026-09 has only PUT/DELETE of one pair).
 */
const ONLY_2026_03 = new Set([
  'GET /files/:version/files/:fileId',
  'GET /files/:version/files/:fileId/signed-url',
  'POST /files/:version/files',
  'GET /crm/objects/:version/:objectType/:objectId/associations/:toObjectType',
]);

export function versionServed(method: string, routeUrl: string, version: string): boolean {
  if (!(SERVED_API_VERSIONS as readonly string[]).includes(version)) return false;
  return version === '2026-03' || !ONLY_2026_03.has(`${method} ${routeUrl}`);
}

/** Refuses, before any handler runs, a request for a version the endpoint is not served in. */
export function enforceServedVersions(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const version = (request.params as { version?: unknown } | undefined)?.version;
    if (typeof version !== 'string') return;
    if (!versionServed(request.method, request.routeOptions.url ?? '', version)) {
      const path = request.url.split('?')[0] ?? '';
      throw notFound(
        /^v[0-9]+$/.test(version)
          ? `${path} is a legacy path; the sandbox serves only date-versioned paths (2026-03, 2026-09).`
          : `No route for ${request.method} ${path}`,
      );
    }
  });
}

/** The date version a request was made in (for links the answer carries). */
export function versionOf(request: { params: unknown }): string {
  const version = (request.params as { version?: unknown } | undefined)?.version;
  return typeof version === 'string' ? version : '2026-03';
}
