import type { Kysely } from 'kysely';

import { getOrganizationIntegration } from '../../core/integrations/organization-integrations.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import {
  mappedProperties,
  type FieldMapping,
  type MappingResult,
} from '../mapping/field-mapping.ts';
import { fetchDealContext } from './deal-context.ts';
import { fetchDealSnapshot, type DealSnapshot } from './deal-reader.ts';
import { currentFieldMapping, primaryCompanyChoice } from './field-mapping-store.ts';
import { mapDealContext } from './import-job.ts';

/**
 * A deal read the way the import reads it, with the organization's field mapping applied:
 * the snapshot (with the mapped deal properties) and, when a mapping exists, its values and
 * what is missing. Only reads (HubSpot and the database). For the dry run, and for routing
 * an automatic send whose rules test mapped fields.
 */
export interface MappedDeal {
  readonly snapshot: DealSnapshot;
  /** Null: the organization has no field mapping. */
  readonly mapped:
    (MappingResult & { readonly version: number; readonly mapping: FieldMapping }) | null;
}

export async function readMappedDeal(
  deps: { readonly db: Kysely<DB>; readonly tokenDeps: HubSpotTokenDeps },
  input: { readonly organizationId: string; readonly portalId: string; readonly dealId: string },
  options: { readonly withMapping?: boolean } = {},
): Promise<MappedDeal> {
  const { db, tokenDeps } = deps;
  const versioned =
    options.withMapping === false ? null : await currentFieldMapping(db, input.organizationId);
  const reads = versioned ? mappedProperties(versioned.mapping) : undefined;
  const snapshot = await fetchDealSnapshot(tokenDeps, input.portalId, input.dealId, {
    ...(reads ? { extraProperties: reads.deal } : {}),
  });
  if (!versioned || !reads) return { snapshot, mapped: null };
  const [integration, choice] = await Promise.all([
    getOrganizationIntegration(db, input.organizationId, 'hubspot'),
    primaryCompanyChoice(db, input.organizationId, input.dealId),
  ]);
  const context = await fetchDealContext(tokenDeps, input.portalId, input.dealId, {
    grantedScopes: integration?.granted_scopes ?? [],
    companyProperties: reads.company,
    contactProperties: reads.contact,
    ...(choice !== undefined ? { primaryCompanyChoice: choice } : {}),
  });
  return {
    snapshot,
    mapped: {
      version: versioned.version,
      mapping: versioned.mapping,
      ...mapDealContext(versioned.mapping, snapshot.properties ?? {}, context),
    },
  };
}

/** The mapped contract fields a routing rule may test (key and label). */
export async function mappedFieldChoices(
  db: Kysely<DB>,
  organizationId: string,
): Promise<Map<string, { key: string; label: string }>> {
  const versioned = await currentFieldMapping(db, organizationId);
  return new Map(
    (versioned?.mapping.fields ?? []).map((f) => [f.field, { key: f.field, label: f.label }]),
  );
}
