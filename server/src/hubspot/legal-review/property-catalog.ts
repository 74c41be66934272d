import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest, type PortalClientOptions } from '../client/portal-client.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import { PropertyDefinitionListSchema, type PropertyDefinition } from '../wire/index.ts';
import { hubspotPaths } from '../wire/api-versions.ts';
import type { MappingSourceObject, PropertyCatalog } from '../mapping/field-mapping.ts';
import { CONTEXT_READ_SCOPES } from './deal-context.ts';

/**
 * The portal's property definitions of deals, companies and contacts (with labels), for the
 * mapping pickers and for checking a mapping. Companies need an optional scope: without it
 * their entry is `null` (not readable).
 */

const OBJECT_TYPES: Record<MappingSourceObject, 'deals' | 'companies' | 'contacts'> = {
  deal: 'deals',
  company: 'companies',
  contact: 'contacts',
};

const NEEDS_SCOPE: Partial<Record<MappingSourceObject, string>> = {
  company: CONTEXT_READ_SCOPES.companies,
};

export async function fetchPropertyCatalog(
  deps: HubSpotTokenDeps,
  portalId: string,
  grantedScopes: readonly string[],
  options: PortalClientOptions = {},
): Promise<PropertyCatalog> {
  const read = async (object: MappingSourceObject): Promise<PropertyDefinition[] | null> => {
    const scope = NEEDS_SCOPE[object];
    if (scope !== undefined && !grantedScopes.includes(scope)) return null;
    try {
      const { body } = await portalRequest(
        deps,
        portalId,
        { method: 'GET', path: hubspotPaths.objectProperties(OBJECT_TYPES[object]) },
        PropertyDefinitionListSchema,
        options,
      );
      return body.results
        .filter((p) => p.archived !== true)
        .sort((a, b) => a.label.localeCompare(b.label));
    } catch (error) {
      if (error instanceof HubSpotApiError && error.status === 403) return null;
      throw error;
    }
  };
  const [deal, company, contact] = await Promise.all([
    read('deal'),
    read('company'),
    read('contact'),
  ]);
  return { deal, company, contact };
}
