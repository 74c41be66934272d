import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { hubspotError, validationError } from './errors.ts';
import type { SandboxRuntime } from './runtime.ts';
import type { NoteRecord, PortalRecord } from './state.ts';
import type { CrmObject } from './wire.ts';

/**
 * CRM search over notes (`POST /crm/objects/{version}/notes/search`, spec
 * `crm-notes/2026-03`): `PublicObjectSearchRequest` in, `CollectionResponseWithTotal
 * SimplePublicObject` out. What HubSpot documents of search and the sandbox keeps:
 * - its own limit, 5 requests per second per portal, answered with a `SECONDLY` 429; the
 *   spec marks the endpoint exempt from the ten-secondly limit, so it is not counted there;
 * - at most 200 results a page, 6 filter groups of at most 6 filters, 18 filters in all;
 * - records appear in results late: a note younger than `searchIndexDelayMs` is not found.
 * Filters served: `associations.deal` and `hs_object_id` with EQ or IN. Anything else (other
 * filters, a full-text `query`) is a 400 naming what the sandbox does not serve, never a
 * silently wrong answer.
 */

const NOTES_SEARCH_SCOPES = ['crm.objects.contacts.read'];
const MAX_LIMIT = 200;
// The 2026 specs say "up to 6 groups"; the older search guide said 5.
const MAX_GROUPS = 6;
const MAX_FILTERS_PER_GROUP = 6;
const MAX_FILTERS = 18;
const SERVED_FILTERS = new Set(['associations.deal', 'hs_object_id']);

const FilterSchema = z.object({
  propertyName: z.string().min(1),
  operator: z.string().min(1),
  value: z.string().optional(),
  values: z.array(z.string()).optional(),
  highValue: z.string().optional(),
});
type Filter = z.infer<typeof FilterSchema>;

const SearchRequestSchema = z.object({
  after: z.string(),
  filterGroups: z.array(z.object({ filters: z.array(FilterSchema) })),
  limit: z.number().int(),
  properties: z.array(z.string()),
  // The spec types a sort as a string; HubSpot's guide shows {propertyName, direction}.
  sorts: z.array(
    z.union([
      z.string(),
      z.object({ propertyName: z.string(), direction: z.enum(['ASCENDING', 'DESCENDING']) }),
    ]),
  ),
  query: z.string().max(3000).optional(),
});

function filterValues(filter: Filter): string[] {
  if (filter.operator === 'EQ') {
    if (filter.value === undefined) throw validationError('EQ needs a value');
    return [filter.value];
  }
  if (filter.operator === 'IN') {
    if (!filter.values) throw validationError('IN needs values');
    return filter.values;
  }
  throw hubspotError(
    400,
    'VALIDATION_ERROR',
    `The sandbox serves only EQ and IN in note search, not ${filter.operator}`,
  );
}

function parseSearch(body: unknown): z.infer<typeof SearchRequestSchema> {
  const parsed = SearchRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw validationError(
      'Invalid input JSON on line 1: ' +
        parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  }
  const input = parsed.data;
  if (input.limit < 1 || input.limit > MAX_LIMIT) {
    throw validationError(`limit must be between 1 and ${MAX_LIMIT}: ${input.limit}`);
  }
  const filters = input.filterGroups.flatMap((g) => g.filters);
  if (
    input.filterGroups.length > MAX_GROUPS ||
    input.filterGroups.some((g) => g.filters.length > MAX_FILTERS_PER_GROUP) ||
    filters.length > MAX_FILTERS
  ) {
    throw validationError(
      `Too many filters: at most ${MAX_GROUPS} filterGroups of ${MAX_FILTERS_PER_GROUP} filters, ${MAX_FILTERS} in all`,
    );
  }
  if (!/^\d{1,9}$/.test(input.after)) throw validationError(`after is not a paging cursor`);
  if (input.query !== undefined) {
    throw hubspotError(400, 'VALIDATION_ERROR', 'The sandbox does not serve a full-text query');
  }
  for (const filter of filters) {
    filterValues(filter);
    if (!SERVED_FILTERS.has(filter.propertyName)) {
      throw hubspotError(
        400,
        'VALIDATION_ERROR',
        `The sandbox serves only associations.deal and hs_object_id in note search, not ${filter.propertyName}`,
      );
    }
  }
  return input;
}

function matches(portal: PortalRecord, note: NoteRecord, filter: Filter): boolean {
  const values = filterValues(filter);
  if (filter.propertyName === 'associations.deal') {
    return values.some((dealId) => portal.deals.get(dealId)?.noteIds.includes(note.id) === true);
  }
  return values.includes(note.id); // hs_object_id, the only other one served
}

export async function notesSearchRoutes(
  app: FastifyInstance,
  runtime: SandboxRuntime,
): Promise<void> {
  const state = runtime.state;
  app.post<{ Params: { objectType: string } }>(
    '/crm/objects/:version/:objectType/search',
    async (request, reply) => {
      const type = request.params.objectType;
      if (type !== 'notes' && type !== 'note' && type !== '0-46') {
        throw hubspotError(
          400,
          'VALIDATION_ERROR',
          `The sandbox serves search over notes only, not ${type}`,
        );
      }
      const { portal } = runtime.authenticate(request, reply, NOTES_SEARCH_SCOPES, 'search');
      const input = parseSearch(request.body);
      const indexedBefore = state.now() - runtime.searchIndexDelayMs;
      const found = [...portal.notes.values()]
        .filter((note) => note.createdAt <= indexedBefore)
        .filter(
          (note) =>
            input.filterGroups.length === 0 ||
            input.filterGroups.some((g) => g.filters.every((f) => matches(portal, note, f))),
        )
        .sort((a, b) => Number(a.id) - Number(b.id));
      const offset = Number(input.after);
      const page = found.slice(offset, offset + input.limit);
      const results: CrmObject[] = page.map((note) =>
        state.renderObject(note, input.properties, () => true),
      );
      const next = offset + page.length;
      return reply.send({
        total: found.length,
        results,
        ...(next < found.length ? { paging: { next: { after: String(next) } } } : {}),
      });
    },
  );
}
