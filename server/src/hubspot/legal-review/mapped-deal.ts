import type { Kysely } from 'kysely';

import { getOrganizationIntegration } from '../../core/integrations/organization-integrations.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import type { PortalClientOptions } from '../client/portal-client.ts';
import {
  applyMapping,
  mappedProperties,
  mappingContact,
  requiredFieldsMessage,
  type FieldMapping,
  type MappingResult,
  type MappingSourceObject,
} from '../mapping/field-mapping.ts';
import { fetchDealContext, type DealContext } from './deal-context.ts';
import { fetchDealSnapshot, type DealSnapshot } from './deal-reader.ts';
import { currentFieldMapping, primaryCompanyChoice } from './field-mapping-store.ts';

/**
 * A deal as a send sees it: the deal (with the mapped properties), its companies, contacts
 * and line items, and the organization's field mapping applied to them. Only reads (HubSpot
 * and the database): the import stores the result, the dry run only shows it.
 */

export interface MappedDeal {
  readonly snapshot: DealSnapshot;
  readonly context: DealContext;
  /** null when the organization has no field mapping. */
  readonly mapping: (MappingResult & { readonly version: number }) | null;
  /** Why a send must stop (required fields without a value, each naming its property). */
  readonly refusal: string | null;
}

/** The mapping applied to what was read (the primary company, the mapping's contact). */
export function mapDealContext(
  mapping: FieldMapping,
  dealValues: Readonly<Record<string, string | null>>,
  context: DealContext,
): MappingResult {
  const company = context.companies.find((c) => c.id === context.primaryCompany?.id);
  const contact = mappingContact(context.contacts, mapping.contactLabel);
  const unreadable: MappingSourceObject[] = context.unread.flatMap((u) =>
    u.objects === 'companies'
      ? ['company' as const]
      : u.objects === 'contacts'
        ? ['contact' as const]
        : [],
  );
  return applyMapping(mapping, {
    deal: dealValues,
    company: company?.properties ?? null,
    companyProblem: context.primaryCompanyProblem,
    contact: contact?.properties ?? null,
    unreadable,
  });
}

export async function readMappedDeal(
  db: Kysely<DB>,
  td: HubSpotTokenDeps,
  input: { organizationId: string; portalId: string; dealId: string },
  options: PortalClientOptions = {},
): Promise<MappedDeal> {
  const integration = await getOrganizationIntegration(db, input.organizationId, 'hubspot');
  const versioned = await currentFieldMapping(db, input.organizationId);
  const reads = versioned ? mappedProperties(versioned.mapping) : undefined;
  const snapshot = await fetchDealSnapshot(td, input.portalId, input.dealId, {
    ...options,
    ...(reads ? { extraProperties: reads.deal } : {}),
  });
  const choice = await primaryCompanyChoice(db, input.organizationId, input.dealId);
  const context = await fetchDealContext(td, input.portalId, input.dealId, {
    ...options,
    grantedScopes: integration?.granted_scopes ?? [],
    ...(reads ? { companyProperties: reads.company, contactProperties: reads.contact } : {}),
    ...(choice !== undefined ? { primaryCompanyChoice: choice } : {}),
  });
  const mapping = versioned
    ? {
        version: versioned.version,
        ...mapDealContext(versioned.mapping, snapshot.properties ?? {}, context),
      }
    : null;
  return {
    snapshot,
    context,
    mapping,
    refusal: mapping ? requiredFieldsMessage(mapping.missing) : null,
  };
}
