import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

import {
  BATCH_INPUT_LIMIT,
  BatchReadInputSchema,
  type AssociationsPage,
  type BatchError,
  type BatchResponse,
  type CrmObject,
  type Property,
} from './wire.ts';
import { SandboxControlError, hubspotError, notFound, validationError } from './errors.ts';
import {
  CRM_OBJECT_TYPES,
  DEFAULT_PROPERTIES,
  associateWithDeal,
  associatedType,
  createCrmRecord,
  dealLinks,
  inverseTypes,
  propertiesOf,
  recordLinks,
  recordsOf,
  type AssociationTypeRecord,
  type CrmObjectType,
  type CrmRecord,
} from './crm-objects.ts';
import type { SandboxRuntime } from './runtime.ts';
import { iso, type PortalRecord, type PropertyRecord } from './state.ts';
import type { SandboxControl } from './types.ts';

/**
 * Companies, contacts and line items (`/crm/objects/{version}/{type}`), their property
 * definitions (`/crm/properties/{version}/{type}`) and their associations with deals
 * (`/crm/associations/{version}/{from}/{to}/batch/read`, the per-record GET), in HubSpot's
 * documented shapes: `SimplePublicObject`, `BatchResponseSimplePublicObject`,
 * `BatchResponsePublicAssociationMultiWithLabel`, `Property`.
 */

const READ_SCOPES: Record<CrmObjectType | 'deals', readonly string[]> = {
  companies: ['crm.objects.companies.read', 'crm.objects.companies.write'],
  contacts: ['crm.objects.contacts.read', 'crm.objects.contacts.write'],
  line_items: ['crm.objects.line_items.read', 'crm.objects.line_items.write'],
  deals: ['crm.objects.deals.read', 'crm.objects.deals.write'],
};
const SCHEMA_READ_SCOPES: Record<CrmObjectType, readonly string[]> = {
  companies: ['crm.schemas.companies.read', ...READ_SCOPES.companies],
  contacts: ['crm.schemas.contacts.read', ...READ_SCOPES.contacts],
  line_items: ['crm.schemas.line_items.read', ...READ_SCOPES.line_items],
};
/** Path spellings HubSpot accepts per type (name and object type id). */
const PATH_NAMES: Record<CrmObjectType, readonly string[]> = {
  companies: ['companies', '0-2'],
  contacts: ['contacts', '0-1'],
  line_items: ['line_items', '0-8'],
};
const OBJECT_NAME: Record<CrmObjectType | 'deals', string> = {
  companies: 'COMPANY',
  contacts: 'CONTACT',
  line_items: 'LINE_ITEM',
  deals: 'DEAL',
};

function listParam(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const values = Array.isArray(value) ? value : [value];
  return values
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw validationError(
      'Invalid input JSON on line 1: ' +
        result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  }
  return result.data;
}

function render(
  portal: PortalRecord,
  type: CrmObjectType,
  record: CrmRecord,
  requested: readonly string[] | undefined,
): CrmObject {
  const known = propertiesOf(portal, type);
  const names = new Set<string>(
    requested && requested.length > 0 ? requested : DEFAULT_PROPERTIES[type],
  );
  names.add('hs_object_id');
  names.add('createdate');
  names.add(type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate');
  const properties: Record<string, string | null> = {};
  for (const name of [...names].sort()) {
    if (!known.has(name) && !record.properties.has(name)) continue; // unknown names are ignored
    if (known.get(name)?.archived === true) continue; // a deleted property's values are gone
    properties[name] = record.properties.get(name) ?? null;
  }
  return {
    id: record.id,
    properties,
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    archived: false,
  };
}

function publicProperty(property: PropertyRecord): Property {
  const rest: Omit<PropertyRecord, 'readOnlyValue'> & { readOnlyValue?: boolean } = { ...property };
  delete rest.readOnlyValue;
  return rest;
}

interface LinkedObject {
  toObjectId: string;
  associationTypes: AssociationTypeRecord[];
}

/** The records of `toType` linked to one record, with the types seen from `fromType`. */
function linked(
  portal: PortalRecord,
  fromType: CrmObjectType | 'deals',
  fromId: string,
  toType: CrmObjectType | 'deals',
): LinkedObject[] | undefined {
  if (fromType === 'deals' && toType !== 'deals') {
    if (!portal.deals.has(fromId)) return undefined;
    return dealLinks(portal, fromId, toType).map((l) => ({
      toObjectId: l.toId,
      associationTypes: l.types,
    }));
  }
  if (fromType !== 'deals' && toType === 'deals') {
    if (!recordsOf(portal, fromType).has(fromId)) return undefined;
    return recordLinks(portal, fromType, fromId)
      .filter((l) => portal.deals.has(l.dealId))
      .map((l) => ({ toObjectId: l.dealId, associationTypes: inverseTypes(portal, l) }));
  }
  throw hubspotError(
    400,
    'VALIDATION_ERROR',
    `The sandbox serves associations between deals and companies, contacts or line items only.`,
  );
}

/**
 * `GET /crm/objects/{version}/{type}/{id}/associations/{toType}` for deal ↔ company/contact/
 * line item pairs; `api-routes.ts` hands these pairs over (its own route serves deal → notes).
 */
export function associationsPage(
  runtime: SandboxRuntime,
  request: FastifyRequest,
  reply: FastifyReply,
  fromName: string,
  fromId: string,
  toName: string,
): AssociationsPage {
  const fromType = associatedType(fromName);
  const toType = associatedType(toName);
  if (!fromType || !toType) {
    throw hubspotError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${toName}`);
  }
  const { portal } = runtime.authenticate(
    request,
    reply,
    READ_SCOPES[toType === 'deals' ? fromType : toType],
  );
  const found = linked(portal, fromType, fromId, toType);
  if (!found) throw notFound('Object not found.  objectId are usually numeric.', { id: [fromId] });
  return { results: found };
}

/** Is this pair served here (rather than by the deal → notes route)? */
export function servesAssociationPair(fromName: string, toName: string): boolean {
  const from = associatedType(fromName);
  const to = associatedType(toName);
  return from !== undefined && to !== undefined && (from === 'deals') !== (to === 'deals');
}

export async function crmObjectsRoutes(
  app: FastifyInstance,
  runtime: SandboxRuntime,
): Promise<void> {
  const state = runtime.state;

  for (const type of CRM_OBJECT_TYPES) {
    for (const pathName of PATH_NAMES[type]) {
      app.get<{ Params: { objectId: string }; Querystring: Record<string, unknown> }>(
        `/crm/objects/:version/${pathName}/:objectId`,
        async (request, reply) => {
          const { portal } = runtime.authenticate(request, reply, READ_SCOPES[type]);
          const record = recordsOf(portal, type).get(request.params.objectId);
          if (!record) {
            throw notFound('Object not found.  objectId are usually numeric.', {
              id: [request.params.objectId],
            });
          }
          return reply.send(render(portal, type, record, listParam(request.query.properties)));
        },
      );

      app.post(`/crm/objects/:version/${pathName}/batch/read`, async (request, reply) => {
        const { portal } = runtime.authenticate(request, reply, READ_SCOPES[type]);
        const startedAt = iso(state.now());
        const input = parseBody(BatchReadInputSchema, request.body);
        if (input.inputs.length > BATCH_INPUT_LIMIT) {
          throw validationError(
            `Batch input exceeded the limit of ${BATCH_INPUT_LIMIT} inputs: ${input.inputs.length}`,
          );
        }
        const records = recordsOf(portal, type);
        const results: CrmObject[] = [];
        const missing: string[] = [];
        const seen = new Set<string>();
        for (const { id } of input.inputs) {
          if (seen.has(id)) continue;
          seen.add(id);
          const record = records.get(id);
          if (record) results.push(render(portal, type, record, input.properties));
          else missing.push(id);
        }
        const body: BatchResponse = {
          status: 'COMPLETE',
          results,
          startedAt,
          completedAt: iso(state.now()),
        };
        if (missing.length === 0) return reply.send(body);
        const error: BatchError = {
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not get some ${OBJECT_NAME[type]} objects, they may be deleted or not exist. Check that ids are valid.`,
          context: { ids: missing },
          errors: [],
          links: {},
        };
        return reply.code(207).send({ ...body, numErrors: 1, errors: [error] });
      });

      app.get(`/crm/properties/:version/${pathName}`, async (request, reply) => {
        const { portal } = runtime.authenticate(request, reply, SCHEMA_READ_SCOPES[type]);
        const results = [...propertiesOf(portal, type).values()]
          .filter((p) => p.archived !== true)
          .map(publicProperty);
        return reply.send({ results });
      });

      app.get<{ Params: { propertyName: string } }>(
        `/crm/properties/:version/${pathName}/:propertyName`,
        async (request, reply) => {
          const { portal } = runtime.authenticate(request, reply, SCHEMA_READ_SCOPES[type]);
          const found = propertiesOf(portal, type).get(request.params.propertyName);
          if (!found || found.archived === true) {
            throw notFound(`Unable to find property ${request.params.propertyName}`);
          }
          return reply.send(publicProperty(found));
        },
      );
    }
  }

  const AssociationsBatchInput = z.object({
    inputs: z.array(z.object({ id: z.string().min(1), after: z.string().optional() })),
  });

  app.post<{ Params: { fromObjectType: string; toObjectType: string } }>(
    '/crm/associations/:version/:fromObjectType/:toObjectType/batch/read',
    async (request, reply) => {
      const fromType = associatedType(request.params.fromObjectType);
      const toType = associatedType(request.params.toObjectType);
      if (!fromType || !toType) {
        throw hubspotError(
          400,
          'VALIDATION_ERROR',
          `Unable to infer object type from: ${!fromType ? request.params.fromObjectType : request.params.toObjectType}`,
        );
      }
      const { portal } = runtime.authenticate(
        request,
        reply,
        READ_SCOPES[toType === 'deals' ? fromType : toType],
      );
      const startedAt = iso(state.now());
      const input = parseBody(AssociationsBatchInput, request.body);
      // The associations guide allows up to 1,000 inputs per batch read.
      if (input.inputs.length > 1000) {
        throw validationError(
          `Batch input exceeded the limit of 1000 inputs: ${input.inputs.length}`,
        );
      }
      const results: Array<{ from: { id: string }; to: LinkedObject[] }> = [];
      const missing: string[] = [];
      for (const { id } of input.inputs) {
        const found = linked(portal, fromType, id, toType);
        // HubSpot reports an input without associations as an error, not an empty result.
        if (!found || found.length === 0) missing.push(id);
        else results.push({ from: { id }, to: found });
      }
      const body = { status: 'COMPLETE', results, startedAt, completedAt: iso(state.now()) };
      if (missing.length === 0) return reply.send(body);
      const error: BatchError = {
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
        message: `No ${OBJECT_NAME[toType]} is associated with ${OBJECT_NAME[fromType]} ${missing.join(', ')}.`,
        context: { fromObjectId: missing },
        errors: [],
        links: {},
      };
      return reply.code(207).send({ ...body, numErrors: missing.length, errors: [error] });
    },
  );
}

// ---- Control --------------------------------------------------------------------------------

type CrmControl = Pick<
  SandboxControl,
  | 'createCrmObject'
  | 'getCrmObject'
  | 'associateWithDeal'
  | 'createObjectProperty'
  | 'archiveObjectProperty'
>;

const PropertyInputSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lowercase letters, digits and underscores'),
  label: z.string().min(1),
  type: z.enum(['string', 'number', 'date', 'datetime', 'enumeration', 'bool']),
  fieldType: z.string().min(1),
  options: z.array(z.object({ label: z.string().min(1), value: z.string().min(1) })).optional(),
});

function objectTypeOrThrow(name: string): CrmObjectType | 'deals' {
  const type = associatedType(name);
  if (!type) throw new SandboxControlError(`unknown object type ${name}`, 400);
  return type;
}

/** Control methods for these objects (merged into `createControl`). */
export function crmObjectsControl(runtime: SandboxRuntime): CrmControl {
  const state = runtime.state;
  const recordType = (name: string): CrmObjectType => {
    const type = objectTypeOrThrow(name);
    if (type === 'deals') throw new SandboxControlError('use createDeal for deals', 400);
    return type;
  };
  return {
    createCrmObject(portalId, objectType, properties) {
      const portal = state.portal(portalId);
      return { id: createCrmRecord(portal, recordType(objectType), properties, state.now()).id };
    },
    getCrmObject(portalId, objectType, id) {
      const portal = state.portal(portalId);
      const type = recordType(objectType);
      const record = recordsOf(portal, type).get(id);
      if (!record) return undefined;
      return render(portal, type, record, [...record.properties.keys()]);
    },
    associateWithDeal(portalId, dealId, toObjectType, toId, opts = {}) {
      const portal = state.portal(portalId);
      const link = associateWithDeal(portal, dealId, recordType(toObjectType), toId, opts);
      return { types: link.types.map((t) => ({ ...t })) };
    },
    createObjectProperty(portalId, objectType, input) {
      const portal = state.portal(portalId);
      const parsed = PropertyInputSchema.safeParse(input);
      if (!parsed.success) {
        throw new SandboxControlError(parsed.error.issues.map((i) => i.message).join('; '), 400);
      }
      const type = objectTypeOrThrow(objectType);
      const map = type === 'deals' ? portal.properties : propertiesOf(portal, type);
      const existing = map.get(parsed.data.name);
      if (existing && existing.archived !== true) {
        throw new SandboxControlError(`property ${parsed.data.name} already exists`, 409);
      }
      const at = iso(state.now());
      const property: PropertyRecord = {
        name: parsed.data.name,
        label: parsed.data.label,
        type: parsed.data.type,
        fieldType: parsed.data.fieldType,
        groupName:
          type === 'deals'
            ? 'dealinformation'
            : type === 'companies'
              ? 'companyinformation'
              : type === 'contacts'
                ? 'contactinformation'
                : 'lineiteminformation',
        description: '',
        options: (parsed.data.options ?? []).map((o, i) => ({
          ...o,
          displayOrder: i,
          hidden: false,
        })),
        displayOrder: -1,
        hidden: false,
        formField: false,
        hasUniqueValue: false,
        externalOptions: false,
        hubspotDefined: false,
        calculated: false,
        archived: false,
        createdAt: at,
        updatedAt: at,
        modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
        readOnlyValue: false,
      };
      map.set(property.name, property);
      return publicProperty(property);
    },
    archiveObjectProperty(portalId, objectType, name) {
      const portal = state.portal(portalId);
      const type = objectTypeOrThrow(objectType);
      const map = type === 'deals' ? portal.properties : propertiesOf(portal, type);
      const found = map.get(name);
      if (!found) throw new SandboxControlError(`unknown property ${name}`);
      // An archived property drops out of reads and lists, as a deletion in HubSpot does.
      map.set(name, { ...found, archived: true });
    },
  };
}

const PortalIdParams = z.object({ portalId: z.coerce.number().int().positive() });

function parseControl<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new SandboxControlError(
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
      400,
    );
  }
  return result.data;
}

/** The same control methods as JSON routes under `/_sandbox/...`. */
export async function crmObjectsControlRoutes(
  app: FastifyInstance,
  control: SandboxControl,
): Promise<void> {
  app.post('/_sandbox/portals/:portalId/objects/:objectType', async (request, reply) => {
    const params = parseControl(
      PortalIdParams.extend({ objectType: z.string().min(1) }),
      request.params,
    );
    const input = parseControl(
      z.object({ properties: z.record(z.string(), z.string()).default({}) }),
      request.body ?? {},
    );
    return reply
      .code(201)
      .send(control.createCrmObject(params.portalId, params.objectType, input.properties));
  });
  app.get('/_sandbox/portals/:portalId/objects/:objectType/:id', async (request) => {
    const params = parseControl(
      PortalIdParams.extend({ objectType: z.string().min(1), id: z.string().min(1) }),
      request.params,
    );
    const found = control.getCrmObject(params.portalId, params.objectType, params.id);
    if (!found) throw new SandboxControlError(`unknown ${params.objectType} ${params.id}`);
    return found;
  });
  app.post('/_sandbox/portals/:portalId/deals/:dealId/associations', async (request, reply) => {
    const params = parseControl(
      PortalIdParams.extend({ dealId: z.string().min(1) }),
      request.params,
    );
    const input = parseControl(
      z.object({
        toObjectType: z.string().min(1),
        toObjectId: z.string().min(1),
        primary: z.boolean().optional(),
        labels: z.array(z.string().min(1)).optional(),
      }),
      request.body,
    );
    const opts = {
      ...(input.primary !== undefined ? { primary: input.primary } : {}),
      ...(input.labels !== undefined ? { labels: input.labels } : {}),
    };
    return reply
      .code(201)
      .send(
        control.associateWithDeal(
          params.portalId,
          params.dealId,
          input.toObjectType,
          input.toObjectId,
          opts,
        ),
      );
  });
  app.post('/_sandbox/portals/:portalId/properties/:objectType', async (request, reply) => {
    const params = parseControl(
      PortalIdParams.extend({ objectType: z.string().min(1) }),
      request.params,
    );
    return reply
      .code(201)
      .send(control.createObjectProperty(params.portalId, params.objectType, request.body));
  });
  app.delete('/_sandbox/portals/:portalId/properties/:objectType/:name', async (request, reply) => {
    const params = parseControl(
      PortalIdParams.extend({ objectType: z.string().min(1), name: z.string().min(1) }),
      request.params,
    );
    control.archiveObjectProperty(params.portalId, params.objectType, params.name);
    return reply.code(204).send();
  });
}
