import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

import { STANDARD_METADATA_FIELDS } from '../../core/contracts/metadata-fields.ts';
import { findIntegrationByExternalAccount } from '../../core/integrations/organization-integrations.ts';
import { ValidationError } from '../../platform/errors.ts';
import { parseInput } from '../../platform/http/validation.ts';
import type {
  FieldMappingData,
  PrimaryCompanyData,
} from '../../../../hubspot-app/app/settings/field-mapping-schemas.ts';
import {
  hubSpotTokenDeps,
  PortalNeedsReconnectError,
  PortalNotConnectedError,
} from '../client/access-tokens.ts';
import { signedJson } from '../inbound/signed-request.ts';
import {
  hubspotActor,
  portalConnection,
  signedQuery,
  signedQuerySchema,
  SignedProxyQuerySchema,
} from '../inbound/signed-query.ts';
import { fetchDealContext } from '../legal-review/deal-context.ts';
import {
  choosePrimaryCompanyFor,
  currentFieldMapping,
  primaryCompanyChoice,
  saveFieldMapping,
  type VersionedMapping,
} from '../legal-review/field-mapping-store.ts';
import { fetchPropertyCatalog } from '../legal-review/property-catalog.ts';
import {
  ACCEPTED_TYPES,
  brokenMappedFields,
  FieldMappingInputSchema,
  MAX_MAPPED_FIELDS,
  validateMapping,
  type PropertyCatalog,
} from '../mapping/field-mapping.ts';
import type { PropertyDefinition } from '../wire/index.ts';

/**
 * The settings page's field mapping (signed like the other settings calls):
 * `GET /settings/field-mapping`, `PUT /settings/field-mapping` (a new version, checked
 * against the portal's property definitions: 400 with a stable code and the field's path,
 * nothing stored) and `PUT /settings/primary-company` (an admin's choice of a deal's
 * counterparty where HubSpot marks none primary).
 */

interface Caller {
  readonly portalId: string;
  readonly organizationId: string;
  readonly actor: string;
  readonly grantedScopes: readonly string[];
}

async function connectedCaller(request: FastifyRequest): Promise<Caller> {
  const query = signedQuery(request, SignedProxyQuerySchema);
  const connection = await portalConnection(request, query.portalId);
  if (connection.kind === 'not_connected') throw new PortalNotConnectedError(query.portalId);
  if (connection.kind === 'needs_reconnect') throw new PortalNeedsReconnectError(query.portalId);
  const row = await findIntegrationByExternalAccount(request.server.db, 'hubspot', query.portalId);
  return {
    portalId: query.portalId,
    organizationId: connection.organizationId,
    actor: hubspotActor({
      portalId: query.portalId,
      userId: query.userId,
      userEmail: query.userEmail,
    }),
    grantedScopes: row?.granted_scopes ?? [],
  };
}

function choices(definitions: readonly PropertyDefinition[] | null) {
  if (definitions === null) return null;
  return definitions
    .filter((d) => d.hidden !== true)
    .map((d) => ({
      name: d.name,
      label: d.label,
      type: d.type,
      options: d.options
        .filter((o) => o.hidden !== true)
        .map((o) => ({ value: o.value, label: o.label })),
    }));
}

function mappingData(current: VersionedMapping | null, catalog: PropertyCatalog): FieldMappingData {
  return {
    version: current?.version ?? null,
    fields: (current?.mapping.fields ?? []).map((f) => ({
      field: f.field,
      label: f.label,
      kind: f.kind,
      source: { ...f.source },
      required: f.required,
      propertyLabel: f.propertyLabel,
      ...(f.options ? { options: { ...f.options } } : {}),
    })),
    contactLabel: current?.mapping.contactLabel ?? null,
    targets: STANDARD_METADATA_FIELDS.map((f) => ({ key: f.key, label: f.label, kind: f.kind })),
    acceptedTypes: {
      text: [...ACCEPTED_TYPES.text],
      number: [...ACCEPTED_TYPES.number],
      currency: [...ACCEPTED_TYPES.currency],
      date: [...ACCEPTED_TYPES.date],
    },
    properties: {
      deal: choices(catalog.deal),
      company: choices(catalog.company),
      contact: choices(catalog.contact),
    },
    broken: current ? brokenMappedFields(current.mapping, catalog) : [],
    maxFields: MAX_MAPPED_FIELDS,
  };
}

function noStore(reply: FastifyReply): void {
  void reply.header('cache-control', 'no-store');
}

const PrimaryCompanyChoiceSchema = z.strictObject({
  dealId: z.string().regex(/^\d{1,20}$/, 'a HubSpot deal id'),
  companyId: z.string().regex(/^\d{1,20}$/, 'a HubSpot company id'),
});

const PrimaryCompanyQuerySchema = signedQuerySchema({
  dealId: z.string().regex(/^\d{1,20}$/, 'a HubSpot deal id'),
});

/** The deal's companies as a send would read them now, with the counterparty it would take. */
async function primaryCompanyData(
  request: FastifyRequest,
  caller: Caller,
  dealId: string,
): Promise<PrimaryCompanyData> {
  const context = await fetchDealContext(
    hubSpotTokenDeps(request.server),
    caller.portalId,
    dealId,
    {
      grantedScopes: caller.grantedScopes,
      ...(await primaryCompanyChoice(request.server.db, caller.organizationId, dealId).then((c) =>
        c !== undefined ? { primaryCompanyChoice: c } : {},
      )),
    },
  );
  return {
    dealId,
    companies: context.companies.map((c) => ({
      id: c.id,
      name: c.name,
      domain: c.domain,
      primaryInHubSpot: c.primaryInHubSpot,
    })),
    primaryCompany: context.primaryCompany,
    problem: context.primaryCompanyProblem,
    readable: !context.unread.some((u) => u.objects === 'companies'),
  };
}

export async function fieldMappingRoutes(app: FastifyInstance): Promise<void> {
  app.get('/settings/field-mapping', async (request, reply) => {
    noStore(reply);
    const caller = await connectedCaller(request);
    const catalog = await fetchPropertyCatalog(
      hubSpotTokenDeps(request.server),
      caller.portalId,
      caller.grantedScopes,
    );
    return mappingData(
      await currentFieldMapping(request.server.db, caller.organizationId),
      catalog,
    );
  });

  app.put('/settings/field-mapping', async (request, reply) => {
    noStore(reply);
    const caller = await connectedCaller(request);
    const input = parseInput(FieldMappingInputSchema, signedJson(request), 'body');
    const catalog = await fetchPropertyCatalog(
      hubSpotTokenDeps(request.server),
      caller.portalId,
      caller.grantedScopes,
    );
    const checked = validateMapping(input, catalog);
    if (!checked.ok) {
      throw new ValidationError(
        checked.problem.message,
        [{ path: checked.problem.path, message: checked.problem.message }],
        checked.problem.code,
      );
    }
    const saved = await saveFieldMapping(
      request.server.db,
      caller.organizationId,
      checked.mapping,
      caller.actor,
    );
    return mappingData(saved, catalog);
  });

  app.get('/settings/primary-company', async (request, reply) => {
    noStore(reply);
    const caller = await connectedCaller(request);
    const { dealId } = signedQuery(request, PrimaryCompanyQuerySchema);
    return primaryCompanyData(request, caller, dealId);
  });

  app.put('/settings/primary-company', async (request, reply) => {
    noStore(reply);
    const caller = await connectedCaller(request);
    const input = parseInput(PrimaryCompanyChoiceSchema, signedJson(request), 'body');
    const before = await primaryCompanyData(request, caller, input.dealId);
    if (!before.companies.some((c) => c.id === input.companyId)) {
      throw new ValidationError(
        `Company ${input.companyId} is not associated with deal ${input.dealId}.`,
        [{ path: 'companyId', message: 'not one of the deal’s companies' }],
        'primary_company_not_on_deal',
      );
    }
    await choosePrimaryCompanyFor(request.server.db, caller.organizationId, input, caller.actor);
    return primaryCompanyData(request, caller, input.dealId);
  });
}
