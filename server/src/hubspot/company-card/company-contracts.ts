import type { Kysely } from 'kysely';

import { contractUrl } from '../../core/contracts/contract.ts';
import { findContractsByExternalRefs } from '../../core/contracts/external-records.ts';
import { isTerminalStatus } from '../../core/contracts/status.ts';
import type { DB } from '../../platform/db/schema.ts';
import { NotFoundError } from '../../platform/errors.ts';
import type { CardNeedsReconnect } from '../../../../hubspot-app/app/cards/api-schemas.ts';
import {
  COMPANY_CARD_CONTRACT_LIMIT,
  type CompanyCardContract,
  type CompanyCardNeedsScope,
} from '../../../../hubspot-app/app/cards/company-api-schemas.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest, type PortalClientOptions } from '../client/portal-client.ts';
import { REAUTHORIZE_PATH } from '../legal-review/file-write-back.ts';
import { AssociationsPageSchema } from '../wire/index.ts';
import { hubspotPaths } from '../wire/api-versions.ts';
import { NEGOTIATION_STATUS_LABELS } from '../wire/status-property.ts';

/**
 * What the Company card shows: every contract made from any of the company's deals. The
 * deals come from HubSpot (one paged associations read, with the signed portal's token, so
 * a company of another portal is a 404 there); the contracts from core by those deal ids.
 */

export class CompanyNotFoundError extends NotFoundError {
  constructor() {
    super('company_not_found', 'This company does not exist in this HubSpot portal.');
  }
}

/** HubSpot refused the read for a scope the portal has not granted (403 MISSING_SCOPES). */
export class CompanyScopeMissingError extends Error {
  readonly code = 'hubspot_missing_scope';
  constructor() {
    super('HubSpot refused to list the company deals: the scope is not granted');
  }
}

/** Pages of 500 (HubSpot's maximum); the bound keeps a bad cursor from looping forever. */
const PAGE_SIZE = 500;
const MAX_PAGES = 40;

/** The ids of the company's deals, following `paging.next.after`. */
export async function listCompanyDealIds(
  deps: HubSpotTokenDeps,
  portalId: string,
  companyId: string,
  options: PortalClientOptions,
): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    let body;
    try {
      ({ body } = await portalRequest(
        deps,
        portalId,
        {
          method: 'GET',
          path: hubspotPaths.companyDealAssociations(companyId),
          query: { limit: PAGE_SIZE, after },
        },
        AssociationsPageSchema,
        options,
      ));
    } catch (error) {
      if (error instanceof HubSpotApiError && (error.status === 404 || error.status === 400))
        throw new CompanyNotFoundError();
      if (error instanceof HubSpotApiError && error.status === 403) {
        throw new CompanyScopeMissingError();
      }
      throw error;
    }
    for (const result of body.results) ids.push(result.toObjectId);
    after = body.paging?.next?.after;
    if (!after) break;
  }
  return [...new Set(ids)];
}

/** The company's contracts for the card, most recently changed first, and whether more exist. */
export async function listCompanyContracts(
  db: Kysely<DB>,
  publicBaseUrl: string,
  input: { organizationId: string; portalId: string; dealIds: readonly string[] },
): Promise<{ contracts: CompanyCardContract[]; truncated: boolean }> {
  const rows = await findContractsByExternalRefs(
    db,
    {
      organizationId: input.organizationId,
      source: 'hubspot',
      accountId: input.portalId,
      externalIds: input.dealIds,
    },
    { limit: COMPANY_CARD_CONTRACT_LIMIT + 1 },
  );
  const contracts = rows.slice(0, COMPANY_CARD_CONTRACT_LIMIT).flatMap((row) =>
    row.externalId === null
      ? []
      : [
          {
            id: row.id,
            title: row.title,
            status: row.negotiationStatus,
            statusLabel: NEGOTIATION_STATUS_LABELS[row.negotiationStatus],
            open: !isTerminalStatus(row.negotiationStatus),
            importState: row.importState,
            lastChangedAt: row.updatedAt.toISOString(),
            url: contractUrl(publicBaseUrl, row.id),
            dealId: row.externalId,
          },
        ],
  );
  return { contracts, truncated: rows.length > COMPANY_CARD_CONTRACT_LIMIT };
}

export function needsScopeData(publicBaseUrl: string): CompanyCardNeedsScope {
  return {
    state: 'needs_scope',
    message:
      'LexiContract cannot read this company’s deals yet: re-authorize to see company contracts ' +
      '(it needs read access to companies). The deal cards keep working.',
    reauthorizeUrl: `${publicBaseUrl}${REAUTHORIZE_PATH}`,
  };
}

export function needsReconnectData(
  publicBaseUrl: string,
  reason: 'not_connected' | 'needs_reconnect',
): CardNeedsReconnect {
  return {
    state: 'needs_reconnect',
    reason,
    message:
      reason === 'not_connected'
        ? 'This HubSpot account is not connected to LexiContract. An admin has to connect it before contracts can be shown here.'
        : 'The connection to LexiContract must be renewed. An admin has to reconnect HubSpot from the LexiContract integrations page.',
    reconnectUrl:
      reason === 'not_connected'
        ? `${publicBaseUrl}${REAUTHORIZE_PATH}`
        : `${publicBaseUrl}/integrations`,
  };
}
