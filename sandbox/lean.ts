import type { FastifyInstance } from 'fastify';

/**
 * "Lean answers": with the switch on, the sandbox leaves out of its answers every field the
 * app does not read (found by reading the app's HubSpot client, not its schemas), so a test
 * shows the app does not depend on them: a live API that omits an unused field must not
 * break an install or an import. Keys are `METHOD route`; each lists what is left out, at
 * the top level, in `results[]`, in `errors[]`, in `stages[]` (a pipeline's) and in
 * embedded associations.
 */
interface Omissions {
  readonly top?: readonly string[];
  readonly results?: readonly string[];
  readonly errors?: readonly string[];
  readonly stages?: readonly string[];
  readonly associationResults?: readonly string[];
}

const CRM_OBJECT_UNREAD = ['updatedAt', 'archived', 'archivedAt', 'url'];
const BATCH: Omissions = {
  top: ['status', 'requestedAt', 'startedAt', 'completedAt', 'numErrors', 'links'],
  results: CRM_OBJECT_UNREAD,
  errors: ['status', 'subCategory', 'links', 'id'],
};
const PIPELINE_UNREAD = ['displayOrder', 'archived', 'createdAt', 'updatedAt'];
const STAGE_UNREAD = [...PIPELINE_UNREAD, 'writePermissions'];

export const LEAN_OMISSIONS: Readonly<Record<string, Omissions>> = {
  'POST /oauth/:version/token': { top: ['token_use', 'id_token', 'user_id'] },
  'POST /oauth/:version/token/introspect': {
    top: [
      'token',
      'token_type',
      'token_use',
      'app_id',
      'client_id',
      'expires_in',
      'is_private_distribution',
      'signed_access_token',
    ],
  },
  'GET /crm/objects/:version/:objectType/:objectId': {
    top: CRM_OBJECT_UNREAD,
    associationResults: ['type'],
  },
  'POST /crm/objects/:version/:objectType/batch/read': BATCH,
  'POST /crm/objects/:version/:objectType/batch/update': BATCH,
  'POST /crm/objects/:version/:objectType/search': {
    top: ['total', 'paging'],
    results: CRM_OBJECT_UNREAD,
  },
  'GET /crm/objects/:version/:objectType/:objectId/associations/:toObjectType': {
    results: ['associationTypes'],
  },
  ...Object.fromEntries(
    ['companies', '0-2', 'contacts', '0-1', 'line_items', '0-8'].map((type) => [
      `POST /crm/objects/:version/${type}/batch/read`,
      BATCH,
    ]),
  ),
  'POST /crm/associations/:version/:fromObjectType/:toObjectType/batch/read': {
    top: ['status', 'requestedAt', 'startedAt', 'completedAt', 'numErrors', 'links'],
    errors: ['status', 'subCategory', 'links', 'id'],
  },
  'GET /files/:version/files/:fileId': {
    top: [
      'createdAt',
      'updatedAt',
      'archivedAt',
      'type',
      'url',
      'path',
      'parentFolderId',
      'encoding',
      'fileMd5',
      'isUsableInContent',
      'sourceGroup',
    ],
  },
  'GET /files/:version/files/:fileId/signed-url': {
    top: ['expiresAt', 'name', 'extension', 'type', 'height', 'width'],
  },
  'GET /crm/pipelines/:version/:objectType': { results: PIPELINE_UNREAD, stages: STAGE_UNREAD },
  'GET /crm/pipelines/:version/:objectType/:pipelineId': {
    top: PIPELINE_UNREAD,
    stages: STAGE_UNREAD,
  },
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;

function omit(target: unknown, keys: readonly string[] | undefined): void {
  if (!keys || !isObject(target)) return;
  for (const key of keys) Reflect.deleteProperty(target, key);
}

function each(list: unknown, fn: (item: unknown) => void): void {
  if (Array.isArray(list)) for (const item of list) fn(item);
}

/** A copy of the answer without the fields of `omissions`. */
export function leanAnswer(body: unknown, omissions: Omissions): unknown {
  if (!isObject(body)) return body;
  const copy = structuredClone(body);
  omit(copy, omissions.top);
  each(copy.results, (r) => {
    omit(r, omissions.results);
    if (isObject(r))
      each(r.stages, (s) => {
        omit(s, omissions.stages);
      });
  });
  each(copy.errors, (e) => {
    omit(e, omissions.errors);
  });
  each(copy.stages, (s) => {
    omit(s, omissions.stages);
  });
  if (isObject(copy.associations)) {
    for (const page of Object.values(copy.associations)) {
      if (isObject(page))
        each(page.results, (r) => {
          omit(r, omissions.associationResults);
        });
    }
  }
  return copy;
}

/** Strips successful answers while `enabled()` says so. */
export function applyLeanAnswers(app: FastifyInstance, enabled: () => boolean): void {
  app.addHook('preSerialization', async (request, reply, payload) => {
    if (!enabled() || reply.statusCode >= 300) return payload;
    const omissions = LEAN_OMISSIONS[`${request.method} ${request.routeOptions.url ?? ''}`];
    return omissions ? leanAnswer(payload, omissions) : payload;
  });
}
