import { randomUUID } from 'node:crypto';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

import {
  BATCH_INPUT_LIMIT,
  BatchReadInputSchema,
  BatchUpdateInputSchema,
  CallbackCompletionSchema,
  CrmObjectPatchInputSchema,
  PropertyCreateSchema,
  PropertyGroupCreateSchema,
  PropertyGroupUpdateSchema,
  PropertyUpdateSchema,
  type AssociationsPage,
  type BatchError,
  type BatchResponse,
  type CrmObject,
  type CrmObjectWithAssociations,
  type FileMetadata,
  type Property,
  type PropertyGroup,
  type SignedUrl,
} from './wire.ts';
import { hubspotError, notFound, validationError } from './errors.ts';
import { associationsPage, servesAssociationPair } from './crm-objects-routes.ts';
import { fileContentStream } from './file-content.ts';
import type { SandboxRuntime } from './runtime.ts';
import { versionOf } from './versions.ts';
import {
  iso,
  propertyValidationError,
  randomToken,
  type FileRecord,
  type PortalRecord,
  type PropertyRecord,
} from './state.ts';

const DEALS_READ = ['crm.objects.deals.read'];
const DEALS_WRITE = ['crm.objects.deals.write'];
const NOTES_READ = ['crm.objects.contacts.read'];
const SCHEMAS_READ = ['crm.schemas.deals.read', 'crm.objects.deals.read'];
const SCHEMAS_WRITE = ['crm.schemas.deals.write'];
const FILES_READ = ['files', 'files.read', 'files.ui_hidden.read'];
const AUTOMATION = ['automation'];
const DEAL_TO_NOTE_TYPE_ID = 213;

type ObjectKind = 'deals' | 'notes';

function objectKind(type: string): ObjectKind | undefined {
  if (type === 'deals' || type === 'deal' || type === '0-3') return 'deals';
  if (type === 'notes' || type === 'note' || type === '0-46') return 'notes';
  return undefined;
}

function requireKind(type: string, allowed: readonly ObjectKind[]): ObjectKind {
  const kind = objectKind(type);
  if (!kind || !allowed.includes(kind)) {
    throw hubspotError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${type}`);
  }
  return kind;
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw validationError(
      'Invalid input JSON on line 1: ' +
        result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
      result.error.issues.map((i) => ({
        message: i.message,
        code: 'INVALID_INPUT',
        ...(i.path.length > 0 ? { in: i.path.join('.') } : {}),
      })),
    );
  }
  return result.data;
}

/** `properties` query: repeated and/or comma-separated. */
function listParam(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const values = Array.isArray(value) ? value : [value];
  return values
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function fileMetadata(runtime: SandboxRuntime, file: FileRecord): FileMetadata {
  return {
    id: file.id,
    name: file.name,
    extension: file.extension,
    type: file.spec.kind === 'bytes' ? 'OTHER' : 'DOCUMENT',
    size: file.size,
    access: file.access,
    url: `${runtime.origin}/hubfs/${file.portalId}/${encodeURIComponent(file.fileName)}`,
    path: `${file.folderPath ?? ''}/${file.fileName}`,
    encoding: file.extension,
    isUsableInContent: false,
    sourceGroup: 'CONVERSATIONS',
    createdAt: iso(file.createdAt),
    updatedAt: iso(file.createdAt),
    archived: false,
  };
}

function visibleFile(portal: PortalRecord, fileId: string): FileRecord {
  const file = portal.files.get(fileId);
  // HubSpot answers 404 for sensitive files to apps that may not read them.
  if (!file || file.access === 'HIDDEN_SENSITIVE' || file.access === 'SENSITIVE') {
    throw notFound(`File not found: ${fileId}`);
  }
  return file;
}

function publicProperty(property: PropertyRecord, portal: PortalRecord): Property {
  const rest: Omit<PropertyRecord, 'readOnlyValue'> & { readOnlyValue?: boolean } = { ...property };
  delete rest.readOnlyValue;
  if (property.name === 'dealstage') {
    return {
      ...rest,
      options: portal.pipelines.flatMap((p) =>
        p.stages.map((s) => ({
          label: s.label,
          value: s.id,
          displayOrder: s.displayOrder,
          hidden: false,
        })),
      ),
    };
  }
  if (property.name === 'pipeline') {
    return {
      ...rest,
      options: portal.pipelines.map((p) => ({
        label: p.label,
        value: p.id,
        displayOrder: p.displayOrder,
        hidden: false,
      })),
    };
  }
  return rest;
}

function requireDealsType(type: string): void {
  if (type !== 'deals' && type !== '0-3') {
    throw hubspotError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${type}`);
  }
}

export async function apiRoutes(app: FastifyInstance, runtime: SandboxRuntime): Promise<void> {
  const state = runtime.state;
  const auth = (request: FastifyRequest, reply: FastifyReply, scopes: readonly string[]) =>
    runtime.authenticate(request, reply, scopes);
  const appSource = (): { changeSource: string; sourceId: string } => ({
    changeSource: 'INTEGRATION',
    sourceId: state.app.appId,
  });

  // ---- CRM objects -------------------------------------------------------------------------

  app.get<{
    Params: { objectType: string; objectId: string };
    Querystring: Record<string, unknown>;
  }>('/crm/objects/:version/:objectType/:objectId', async (request, reply) => {
    const kind = requireKind(request.params.objectType, ['deals', 'notes']);
    const { portal } = auth(request, reply, kind === 'deals' ? DEALS_READ : NOTES_READ);
    const { objectId } = request.params;
    const record = kind === 'deals' ? portal.deals.get(objectId) : portal.notes.get(objectId);
    if (!record)
      throw notFound('Object not found.  objectId are usually numeric.', { id: [objectId] });
    const known = (name: string) => portal.properties.has(name);
    const result: CrmObjectWithAssociations = state.renderObject(
      record,
      listParam(request.query.properties),
      kind === 'deals' ? known : () => true,
      (name) => kind === 'deals' && portal.properties.get(name)?.archived === true,
    );
    // Only deal → notes associations exist in the sandbox; HubSpot omits empty ones.
    const wantsNotes = (listParam(request.query.associations) ?? []).some(
      (to) => objectKind(to) === 'notes',
    );
    const deal = kind === 'deals' ? portal.deals.get(objectId) : undefined;
    if (wantsNotes && deal && deal.noteIds.length > 0) {
      result.associations = {
        notes: { results: deal.noteIds.map((id) => ({ id, type: 'deal_to_note' })) },
      };
    }
    return reply.send(result);
  });

  app.patch<{ Params: { objectType: string; objectId: string } }>(
    '/crm/objects/:version/:objectType/:objectId',
    async (request, reply) => {
      requireKind(request.params.objectType, ['deals']);
      const { portal } = auth(request, reply, DEALS_WRITE);
      const input = parseBody(CrmObjectPatchInputSchema, request.body);
      const deal = portal.deals.get(request.params.objectId);
      if (!deal)
        throw notFound('Object not found.  objectId are usually numeric.', {
          id: [request.params.objectId],
        });
      state.assertValidProperties(portal, input.properties);
      state.updateDeal(portal, deal, input.properties, appSource());
      return reply.send(state.renderObject(deal, Object.keys(input.properties), () => true));
    },
  );

  app.post<{ Params: { objectType: string }; Querystring: Record<string, unknown> }>(
    '/crm/objects/:version/:objectType/batch/read',
    async (request, reply) => {
      const kind = requireKind(request.params.objectType, ['deals', 'notes']);
      const { portal } = auth(request, reply, kind === 'deals' ? DEALS_READ : NOTES_READ);
      const startedAt = iso(state.now());
      const input = parseBody(BatchReadInputSchema, request.body);
      if (input.inputs.length > BATCH_INPUT_LIMIT) {
        throw validationError(
          `Batch input exceeded the limit of ${BATCH_INPUT_LIMIT} inputs: ${input.inputs.length}`,
        );
      }
      const results: CrmObject[] = [];
      const missing: string[] = [];
      const seen = new Set<string>();
      for (const { id } of input.inputs) {
        if (seen.has(id)) continue;
        seen.add(id);
        const record = kind === 'deals' ? portal.deals.get(id) : portal.notes.get(id);
        if (!record) missing.push(id);
        else {
          results.push(
            state.renderObject(
              record,
              input.properties,
              kind === 'deals' ? (n) => portal.properties.has(n) : () => true,
              (n) => kind === 'deals' && portal.properties.get(n)?.archived === true,
            ),
          );
        }
      }
      return sendBatch(reply, kind, startedAt, results, missing);
    },
  );

  function sendBatch(
    reply: FastifyReply,
    kind: ObjectKind,
    startedAt: string,
    results: CrmObject[],
    missing: string[],
  ): FastifyReply {
    const body: BatchResponse = {
      status: 'COMPLETE',
      results,
      startedAt,
      completedAt: iso(state.now()),
    };
    if (missing.length === 0) return reply.code(200).send(body);
    const error: BatchError = {
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      message: `Could not get some ${kind === 'deals' ? 'DEAL' : 'NOTE'} objects, they may be deleted or not exist. Check that ids are valid.`,
      context: { ids: missing },
      errors: [],
      links: {},
    };
    return reply.code(207).send({ ...body, numErrors: 1, errors: [error] });
  }

  app.post<{ Params: { objectType: string } }>(
    '/crm/objects/:version/:objectType/batch/update',
    async (request, reply) => {
      requireKind(request.params.objectType, ['deals']);
      const { portal } = auth(request, reply, DEALS_WRITE);
      const startedAt = iso(state.now());
      const input = parseBody(BatchUpdateInputSchema, request.body);
      if (input.inputs.length === 0) throw validationError('inputs must not be empty');
      if (input.inputs.length > BATCH_INPUT_LIMIT) {
        throw validationError(
          `Batch input exceeded the limit of ${BATCH_INPUT_LIMIT} inputs: ${input.inputs.length}`,
        );
      }
      const ids = input.inputs.map((i) => i.id);
      const duplicates = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
      if (duplicates.length > 0) {
        throw validationError(
          `Duplicate IDs found in batch input: [${duplicates.join(', ')}]. IDs must be unique`,
          [
            {
              message: 'Duplicate IDs found in batch input',
              code: 'DUPLICATE_ID',
              context: { ids: duplicates },
            },
          ],
        );
      }
      const problems = input.inputs.flatMap((i) => state.propertyProblems(portal, i.properties));
      if (problems.length > 0) throw propertyValidationError(problems);
      const results: CrmObject[] = [];
      const missing: string[] = [];
      for (const item of input.inputs) {
        const deal = portal.deals.get(item.id);
        if (!deal) {
          missing.push(item.id);
          continue;
        }
        state.updateDeal(portal, deal, item.properties, appSource());
        results.push(state.renderObject(deal, Object.keys(item.properties), () => true));
      }
      return sendBatch(reply, 'deals', startedAt, results, missing);
    },
  );

  app.get<{
    Params: { objectType: string; objectId: string; toObjectType: string };
    Querystring: { after?: string; limit?: string };
  }>(
    '/crm/objects/:version/:objectType/:objectId/associations/:toObjectType',
    async (request, reply) => {
      if (servesAssociationPair(request.params.objectType, request.params.toObjectType)) {
        return reply.send(
          associationsPage(
            runtime,
            request,
            reply,
            request.params.objectType,
            request.params.objectId,
            request.params.toObjectType,
          ),
        );
      }
      requireKind(request.params.objectType, ['deals']);
      const { portal } = auth(request, reply, [
        ...DEALS_READ,
        ...NOTES_READ,
        'crm.objects.notes.read',
      ]);
      if (objectKind(request.params.toObjectType) !== 'notes') {
        throw hubspotError(
          400,
          'VALIDATION_ERROR',
          `Unable to infer object type from: ${request.params.toObjectType}`,
        );
      }
      const deal = portal.deals.get(request.params.objectId);
      if (!deal)
        throw notFound('Object not found.  objectId are usually numeric.', {
          id: [request.params.objectId],
        });
      const limit = Math.min(Math.max(Number(request.query.limit ?? 500) || 500, 1), 500);
      const offset = request.query.after === undefined ? 0 : Number(request.query.after);
      if (!Number.isSafeInteger(offset) || offset < 0)
        throw validationError('after must be a paging cursor');
      const slice = deal.noteIds.slice(offset, offset + limit);
      const body: AssociationsPage = {
        results: slice.map((id) => ({
          toObjectId: id,
          associationTypes: [
            { category: 'HUBSPOT_DEFINED', typeId: DEAL_TO_NOTE_TYPE_ID, label: null },
          ],
        })),
      };
      if (offset + limit < deal.noteIds.length) {
        const after = String(offset + limit);
        body.paging = {
          next: {
            after,
            link: `${runtime.origin}/crm/objects/${versionOf(request)}/deals/${deal.id}/associations/notes?limit=${limit}&after=${after}`,
          },
        };
      }
      return reply.send(body);
    },
  );

  // ---- Files -------------------------------------------------------------------------------

  app.get<{ Params: { fileId: string } }>(
    '/files/:version/files/:fileId',
    async (request, reply) => {
      const { portal } = auth(request, reply, FILES_READ);
      return reply.send(fileMetadata(runtime, visibleFile(portal, request.params.fileId)));
    },
  );

  app.get<{ Params: { fileId: string }; Querystring: { expirationSeconds?: string } }>(
    '/files/:version/files/:fileId/signed-url',
    async (request, reply) => {
      const { portal } = auth(request, reply, FILES_READ);
      const file = visibleFile(portal, request.params.fileId);
      const seconds =
        request.query.expirationSeconds === undefined
          ? 3600
          : Number(request.query.expirationSeconds);
      if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 21_600) {
        throw validationError('expirationSeconds must be between 1 and 21600');
      }
      const token = randomToken();
      const expiresAt = state.now() + seconds * 1000;
      state.signedUrls.set(token, { portalId: portal.portalId, fileId: file.id, expiresAt });
      const body: SignedUrl = {
        url: `${runtime.origin}/signed-files/${token}/${encodeURIComponent(file.fileName)}`,
        expiresAt: iso(expiresAt),
        name: file.name,
        extension: file.extension,
        size: file.size,
        type: file.spec.kind === 'bytes' ? 'OTHER' : 'DOCUMENT',
      };
      return reply.send(body);
    },
  );

  app.get<{ Params: { token: string; fileName: string } }>(
    '/signed-files/:token/:fileName',
    async (request, reply) => {
      const entry = state.signedUrls.get(request.params.token);
      if (!entry) {
        return reply.code(404).type('text/plain').send('Not Found');
      }
      runtime.requestPortal.set(request, entry.portalId);
      if (state.now() >= entry.expiresAt) {
        return reply.code(403).type('text/plain').send('Request has expired');
      }
      const file = state.portal(entry.portalId).files.get(entry.fileId);
      if (!file) return reply.code(404).type('text/plain').send('Not Found');
      return reply
        .code(200)
        .header('content-type', file.contentType)
        .header('content-length', String(file.size))
        .header(
          'content-disposition',
          `attachment; filename="${encodeURIComponent(file.fileName)}"`,
        )
        .send(file.content ?? fileContentStream(file.spec));
    },
  );

  // ---- Properties --------------------------------------------------------------------------

  app.get<{ Params: { objectType: string } }>(
    '/crm/properties/:version/:objectType',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_READ);
      const results = [...portal.properties.values()]
        .filter((p) => p.archived !== true)
        .map((p) => publicProperty(p, portal));
      return reply.send({ results });
    },
  );

  app.post<{ Params: { objectType: string } }>(
    '/crm/properties/:version/:objectType',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_WRITE);
      const input = parseBody(PropertyCreateSchema, request.body);
      if (portal.properties.has(input.name)) {
        throw hubspotError(
          409,
          'OBJECT_ALREADY_EXISTS',
          `Property named '${input.name}' already exists.`,
          {
            context: { name: [input.name] },
          },
        );
      }
      if (!portal.groups.has(input.groupName)) {
        throw validationError(`Property group '${input.groupName}' does not exist.`);
      }
      if (
        input.type === 'enumeration' &&
        (input.options ?? []).length === 0 &&
        input.externalOptions !== true
      ) {
        throw validationError('Enumeration properties need at least one option.');
      }
      const at = iso(state.now());
      const property: PropertyRecord = {
        name: input.name,
        label: input.label,
        type: input.type,
        fieldType: input.fieldType,
        groupName: input.groupName,
        description: input.description ?? '',
        options: input.options ?? [],
        displayOrder: input.displayOrder ?? -1,
        hidden: input.hidden ?? false,
        formField: input.formField ?? false,
        hasUniqueValue: input.hasUniqueValue ?? false,
        externalOptions: input.externalOptions ?? false,
        hubspotDefined: false,
        calculated: false,
        archived: false,
        createdAt: at,
        updatedAt: at,
        modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
        readOnlyValue: false,
      };
      portal.properties.set(property.name, property);
      return reply
        .code(201)
        .header(
          'location',
          `${runtime.origin}/crm/properties/${versionOf(request)}/deals/${property.name}`,
        )
        .send(publicProperty(property, portal));
    },
  );

  app.get<{ Params: { objectType: string } }>(
    '/crm/properties/:version/:objectType/groups',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_READ);
      return reply.send({ results: [...portal.groups.values()] });
    },
  );

  app.post<{ Params: { objectType: string } }>(
    '/crm/properties/:version/:objectType/groups',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_WRITE);
      const input = parseBody(PropertyGroupCreateSchema, request.body);
      if (portal.groups.has(input.name)) {
        throw hubspotError(
          409,
          'OBJECT_ALREADY_EXISTS',
          `A property group named '${input.name}' already exists.`,
          {
            context: { name: [input.name] },
          },
        );
      }
      const group: PropertyGroup = {
        name: input.name,
        label: input.label,
        displayOrder: input.displayOrder ?? -1,
        archived: false,
      };
      portal.groups.set(group.name, group);
      return reply
        .code(201)
        .header(
          'location',
          `${runtime.origin}/crm/properties/${versionOf(request)}/deals/groups/${group.name}`,
        )
        .send(group);
    },
  );

  app.get<{ Params: { objectType: string; groupName: string } }>(
    '/crm/properties/:version/:objectType/groups/:groupName',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_READ);
      const group = portal.groups.get(request.params.groupName);
      if (!group) throw notFound(`Unable to find property group '${request.params.groupName}'.`);
      return reply.send(group);
    },
  );

  app.patch<{ Params: { objectType: string; groupName: string } }>(
    '/crm/properties/:version/:objectType/groups/:groupName',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_WRITE);
      const group = portal.groups.get(request.params.groupName);
      if (!group) throw notFound(`Unable to find property group '${request.params.groupName}'.`);
      const input = parseBody(PropertyGroupUpdateSchema, request.body);
      const updated: PropertyGroup = {
        ...group,
        ...(input.label !== undefined ? { label: input.label } : {}),
        ...(input.displayOrder !== undefined ? { displayOrder: input.displayOrder } : {}),
      };
      portal.groups.set(updated.name, updated);
      return reply.send(updated);
    },
  );

  app.get<{ Params: { objectType: string; propertyName: string } }>(
    '/crm/properties/:version/:objectType/:propertyName',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_READ);
      const property = portal.properties.get(request.params.propertyName);
      if (!property || property.archived === true) {
        throw notFound(`Unable to find property with name '${request.params.propertyName}'.`);
      }
      return reply.send(publicProperty(property, portal));
    },
  );

  app.patch<{ Params: { objectType: string; propertyName: string } }>(
    '/crm/properties/:version/:objectType/:propertyName',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_WRITE);
      const property = portal.properties.get(request.params.propertyName);
      if (!property || property.archived === true) {
        throw notFound(`Unable to find property with name '${request.params.propertyName}'.`);
      }
      if (property.hubspotDefined === true) {
        throw validationError(
          `Property '${property.name}' is HubSpot-defined and cannot be modified.`,
        );
      }
      const input = parseBody(PropertyUpdateSchema, request.body);
      if (input.groupName !== undefined && !portal.groups.has(input.groupName)) {
        throw validationError(`Property group '${input.groupName}' does not exist.`);
      }
      const updated: PropertyRecord = {
        ...property,
        ...input,
        updatedAt: iso(state.now()),
      };
      portal.properties.set(updated.name, updated);
      return reply.send(publicProperty(updated, portal));
    },
  );

  // ---- Pipelines ---------------------------------------------------------------------------

  app.get<{ Params: { objectType: string } }>(
    '/crm/pipelines/:version/:objectType',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_READ);
      return reply.send({ results: portal.pipelines });
    },
  );

  app.get<{ Params: { objectType: string; pipelineId: string } }>(
    '/crm/pipelines/:version/:objectType/:pipelineId',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_READ);
      const pipeline = portal.pipelines.find((p) => p.id === request.params.pipelineId);
      if (!pipeline) throw notFound(`Unable to find pipeline ${request.params.pipelineId}`);
      return reply.send(pipeline);
    },
  );

  app.get<{ Params: { objectType: string; pipelineId: string } }>(
    '/crm/pipelines/:version/:objectType/:pipelineId/stages',
    async (request, reply) => {
      requireDealsType(request.params.objectType);
      const { portal } = auth(request, reply, SCHEMAS_READ);
      const pipeline = portal.pipelines.find((p) => p.id === request.params.pipelineId);
      if (!pipeline) throw notFound(`Unable to find pipeline ${request.params.pipelineId}`);
      return reply.send({ results: pipeline.stages });
    },
  );

  // ---- Workflow action callbacks -----------------------------------------------------------

  app.post<{ Params: { callbackId: string } }>(
    '/automation/actions/callbacks/:version/:callbackId/complete',
    async (request, reply) => {
      const { portal } = auth(request, reply, AUTOMATION);
      const input = parseBody(CallbackCompletionSchema, request.body);
      const callback = runtime.callbacks.get(request.params.callbackId);
      if (!callback || callback.portalId !== portal.portalId) {
        throw notFound(`Callback ${request.params.callbackId} not found`);
      }
      runtime.completions.push({
        callbackId: request.params.callbackId,
        portalId: portal.portalId,
        time: state.now(),
        ...input,
      });
      return reply.code(204).send();
    },
  );

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const legacy = /^\/(oauth\/v1|crm\/v3|crm\/v4|files\/v3|automation\/v4)\//.test(path);
    return reply.code(404).send({
      status: 'error',
      message: legacy
        ? `${path} is a legacy path; the sandbox serves only date-versioned paths (2026-03, 2026-09).`
        : `No route for ${request.method} ${path}`,
      correlationId: randomUUID(),
      category: 'OBJECT_NOT_FOUND',
    });
  });
}
