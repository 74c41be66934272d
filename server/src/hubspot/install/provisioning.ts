import { z } from 'zod';

import { NEGOTIATION_STATUS_LABELS } from '../wire/status-property.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest } from '../client/portal-client.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import { hubspotPaths } from '../wire/api-versions.ts';
import { REPORT_PROPERTY_DEFINITIONS } from '../wire/report-properties.ts';

/**
 * Puts what the app needs into a portal, idempotently: the "LexiContract" deal property
 * group and the deal properties `lexicontract_status` (an enumeration of SPEC §6's nine
 * values), `lexicontract_contract_url` and the report-ready properties of
 * `wire/report-properties.ts`. Existing ones are checked and only missing
 * options are added; nothing is created twice.
 */
export const PROPERTY_GROUP = 'lexicontract';
export const STATUS_PROPERTY = 'lexicontract_status';
export const CONTRACT_URL_PROPERTY = 'lexicontract_contract_url';

// HubSpot's `Option` as read. `description` is kept because a PATCH sends the list back
// whole (see below): an option field this schema dropped would be erased in the portal.
const PropertyOptionSchema = z.object({
  label: z.string(),
  value: z.string(),
  displayOrder: z.number().optional(),
  hidden: z.boolean().optional(),
  description: z.string().optional(),
});

const PropertySchema = z.object({
  name: z.string(),
  type: z.string().optional(),
  fieldType: z.string().optional(),
  groupName: z.string().optional(),
  options: z.array(PropertyOptionSchema).optional(),
});

export interface ProvisioningResult {
  readonly created: string[];
  readonly updated: string[];
}

async function exists(deps: HubSpotTokenDeps, portalId: string, path: string) {
  try {
    const { body } = await portalRequest(
      deps,
      portalId,
      { method: 'GET', path },
      PropertySchema.partial().loose(),
    );
    return body;
  } catch (error) {
    if (error instanceof HubSpotApiError && error.status === 404) return undefined;
    throw error;
  }
}

async function createIgnoringConflict(
  deps: HubSpotTokenDeps,
  portalId: string,
  path: string,
  json: unknown,
): Promise<boolean> {
  try {
    await portalRequest(deps, portalId, { method: 'POST', path, json }, z.unknown());
    return true;
  } catch (error) {
    // Created by a concurrent install in the meantime: that is the state we wanted.
    if (error instanceof HubSpotApiError && error.status === 409) return false;
    throw error;
  }
}

export function statusPropertyOptions() {
  return Object.entries(NEGOTIATION_STATUS_LABELS).map(([value, label], index) => ({
    value,
    label,
    displayOrder: index,
    hidden: false,
  }));
}

export async function provisionPortal(
  deps: HubSpotTokenDeps,
  portalId: string,
): Promise<ProvisioningResult> {
  const created: string[] = [];
  const updated: string[] = [];
  const base = hubspotPaths.dealProperties();

  if (!(await exists(deps, portalId, `${base}/groups/${PROPERTY_GROUP}`))) {
    if (
      await createIgnoringConflict(deps, portalId, `${base}/groups`, {
        name: PROPERTY_GROUP,
        label: 'LexiContract',
        displayOrder: -1,
      })
    )
      created.push(`group:${PROPERTY_GROUP}`);
  }

  const wanted = statusPropertyOptions();
  const status = await exists(deps, portalId, `${base}/${STATUS_PROPERTY}`);
  if (!status) {
    if (
      await createIgnoringConflict(deps, portalId, base, {
        name: STATUS_PROPERTY,
        label: 'LexiContract status',
        description: 'Where the deal stands in LexiContract legal review. Set by LexiContract.',
        groupName: PROPERTY_GROUP,
        type: 'enumeration',
        fieldType: 'select',
        options: wanted,
      })
    )
      created.push(`property:${STATUS_PROPERTY}`);
  } else {
    const existing = status.options ?? [];
    const have = new Set(existing.map((o) => o.value));
    const missing = wanted.filter((o) => !have.has(o.value));
    if (missing.length > 0) {
      // PATCH replaces the option list: keep the portal's existing options, append ours. The
      // PATCH body takes `OptionInput`, which requires `displayOrder` and `hidden` where the
      // `Option` we read has them optional (crm-properties spec), so fill them in.
      const kept = existing.map((o, index) => ({
        ...o,
        displayOrder: o.displayOrder ?? index,
        hidden: o.hidden ?? false,
      }));
      await portalRequest(
        deps,
        portalId,
        {
          method: 'PATCH',
          path: `${base}/${STATUS_PROPERTY}`,
          json: { options: [...kept, ...missing] },
        },
        z.unknown(),
      );
      updated.push(`property:${STATUS_PROPERTY}`);
    }
  }

  if (!(await exists(deps, portalId, `${base}/${CONTRACT_URL_PROPERTY}`))) {
    if (
      await createIgnoringConflict(deps, portalId, base, {
        name: CONTRACT_URL_PROPERTY,
        label: 'LexiContract contract',
        description: 'Link to the contract in LexiContract. Set by LexiContract.',
        groupName: PROPERTY_GROUP,
        type: 'string',
        fieldType: 'text',
      })
    )
      created.push(`property:${CONTRACT_URL_PROPERTY}`);
  }

  // The report-ready properties (issue 15): created when missing, never altered after, so an
  // admin's edits (label, hidden options) survive a re-run.
  for (const definition of REPORT_PROPERTY_DEFINITIONS) {
    if (await exists(deps, portalId, `${base}/${definition.name}`)) continue;
    if (
      await createIgnoringConflict(deps, portalId, base, {
        ...definition,
        groupName: PROPERTY_GROUP,
      })
    )
      created.push(`property:${definition.name}`);
  }
  return { created, updated };
}
