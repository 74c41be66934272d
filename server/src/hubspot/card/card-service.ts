import type { Kysely } from 'kysely';

import type { AppConfig } from '../../platform/config/runtime.ts';
import type { DB } from '../../platform/db/schema.ts';
import { NotFoundError } from '../../platform/errors.ts';
import { isTerminalStatus } from '../../core/contracts/status.ts';
import type {
  CardContract,
  CardNeedsReconnect,
} from '../../../../hubspot-app/app/cards/api-schemas.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import {
  DealNotFoundError as DealMissingError,
  fetchDealWithNoteIds,
} from '../legal-review/deal-reader.ts';
import {
  PortalNeedsReconnectError,
  PortalNotConnectedError,
  type HubSpotTokenDeps,
} from '../install/access-tokens.ts';
import { NEGOTIATION_STATUS_LABELS } from '../wire/status-property.ts';
import { contractUrl } from '../contract-hooks.ts';

/** A deal id the signed portal does not have (or that does not exist): nothing is shown. */
export class DealNotFoundError extends NotFoundError {
  constructor() {
    super('deal_not_found', 'This deal does not exist in this HubSpot portal.');
  }
}

/** The card shows at most this many contracts (newest first); answers stay far below 1 MB. */
export const CARD_CONTRACT_LIMIT = 50;

export function needsReconnectData(
  publicBaseUrl: string,
  reason: 'not_connected' | 'needs_reconnect',
): CardNeedsReconnect {
  return {
    state: 'needs_reconnect',
    reason,
    message:
      reason === 'not_connected'
        ? 'This HubSpot account is not connected to LexiContract. An admin has to connect it before deals can be sent to legal review.'
        : 'The connection to LexiContract must be renewed. An admin has to reconnect HubSpot from the LexiContract integrations page.',
    reconnectUrl:
      reason === 'not_connected'
        ? `${publicBaseUrl}/api/v1/integrations/hubspot/auth`
        : `${publicBaseUrl}/integrations`,
  };
}

/** Whether an error means the portal's connection is unusable (the card's reconnect state). */
export function connectionProblem(error: unknown): 'not_connected' | 'needs_reconnect' | null {
  if (error instanceof PortalNeedsReconnectError) return 'needs_reconnect';
  if (error instanceof PortalNotConnectedError) return 'not_connected';
  return null;
}

/**
 * Reads the deal with the signed portal's own token: a deal of another portal (or none)
 * is a 404 from HubSpot and becomes `deal_not_found` before anything is shown or done.
 * The same read brings the deal's note ids (`?associations=notes`).
 */
export async function readPortalDeal(
  tokenDeps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
): Promise<{ id: string; name: string; noteIds: string[] }> {
  try {
    const { deal, noteIds } = await fetchDealWithNoteIds(tokenDeps, portalId, dealId, {
      properties: ['dealname'],
      timeoutMs: 5_000,
      maxAttempts: 2,
      baseDelayMs: 200,
    });
    if (deal.id !== dealId) throw new DealNotFoundError();
    return { id: deal.id, name: deal.properties.dealname ?? '', noteIds };
  } catch (error) {
    if (
      error instanceof DealMissingError ||
      (error instanceof HubSpotApiError && (error.status === 404 || error.status === 400))
    ) {
      throw new DealNotFoundError();
    }
    throw error;
  }
}

export interface DealContracts {
  readonly contracts: CardContract[];
  readonly openContractId: string | null;
}

/** The contracts made from this deal of this portal, for this organization, newest first. */
export async function listDealContracts(
  db: Kysely<DB>,
  config: Pick<AppConfig, 'publicBaseUrl'>,
  input: { organizationId: string; portalId: string; dealId: string },
): Promise<DealContracts> {
  const rows = await db
    .selectFrom('contracts')
    .select(['id', 'title', 'negotiation_status', 'import_state', 'created_at', 'updated_at'])
    .where('organization_id', '=', input.organizationId)
    .where('external_source', '=', 'hubspot')
    .where('external_account_id', '=', input.portalId)
    .where('external_id', '=', input.dealId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(CARD_CONTRACT_LIMIT)
    .execute();
  const contracts = rows.map((row) => toCardContract(config.publicBaseUrl, row));
  return { contracts, openContractId: contracts.find((c) => c.open)?.id ?? null };
}

export function toCardContract(
  publicBaseUrl: string,
  row: {
    id: string;
    title: string;
    negotiation_status: CardContract['status'];
    import_state: CardContract['importState'];
    updated_at: Date;
  },
): CardContract {
  return {
    id: row.id,
    title: row.title,
    status: row.negotiation_status,
    statusLabel: NEGOTIATION_STATUS_LABELS[row.negotiation_status],
    open: !isTerminalStatus(row.negotiation_status),
    importState: row.import_state,
    lastChangedAt: row.updated_at.toISOString(),
    url: contractUrl(publicBaseUrl, row.id),
  };
}
