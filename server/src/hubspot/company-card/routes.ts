import type { FastifyPluginAsync, FastifyRequest } from 'fastify';

import { getOrganizationIntegration } from '../../core/integrations/organization-integrations.ts';
import { DomainError } from '../../platform/errors.ts';
import { HubSpotIdSchema } from '../../../../hubspot-app/app/cards/api-schemas.ts';
import {
  COMPANY_CARD_SCOPE,
  type CompanyCardData,
} from '../../../../hubspot-app/app/cards/company-api-schemas.ts';
import {
  hubSpotTokenDeps,
  PortalNeedsReconnectError,
  PortalNotConnectedError,
} from '../client/access-tokens.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { acceptRawJson, requireHubSpotSignature } from '../inbound/signed-request.ts';
import { portalConnection, signedQuery, signedQuerySchema } from '../inbound/signed-query.ts';
import {
  CompanyScopeMissingError,
  listCompanyContracts,
  listCompanyDealIds,
  needsReconnectData,
  needsScopeData,
} from './company-contracts.ts';

/**
 * The Company card's backend: `GET /card/company?companyId=…`, called by the card through
 * `hubspot.fetch`, v3-signed over the full URL. The portal comes from the signed query,
 * never from anything else the caller sends; the company's deals are read from HubSpot with
 * that portal's token (one paged associations read) before any contract is shown.
 */

export class CompanyCardHubSpotUnavailableError extends DomainError {
  constructor() {
    super('hubspot_unavailable', 'HubSpot did not answer in time. Try again in a moment.', 502);
  }
}

const CompanyCardQuerySchema = signedQuerySchema({ companyId: HubSpotIdSchema });

async function loadCompanyCard(request: FastifyRequest): Promise<CompanyCardData> {
  const query = signedQuery(request, CompanyCardQuerySchema);
  const { config, db } = request.server;
  const connection = await portalConnection(request, query.portalId);
  if (connection.kind !== 'connected')
    return needsReconnectData(config.publicBaseUrl, connection.kind);
  // An optional scope: without it HubSpot would refuse the read, so do not spend a call.
  const integration = await getOrganizationIntegration(db, connection.organizationId, 'hubspot');
  if (!integration?.granted_scopes.includes(COMPANY_CARD_SCOPE)) {
    return needsScopeData(config.publicBaseUrl);
  }
  let dealIds: string[];
  try {
    dealIds = await listCompanyDealIds(
      hubSpotTokenDeps(request.server),
      query.portalId,
      query.companyId,
      { maxAttempts: 2, baseDelayMs: 200, timeoutMs: 5_000 },
    );
  } catch (error) {
    if (error instanceof CompanyScopeMissingError) return needsScopeData(config.publicBaseUrl);
    if (error instanceof PortalNeedsReconnectError)
      return needsReconnectData(config.publicBaseUrl, 'needs_reconnect');
    if (error instanceof PortalNotConnectedError)
      return needsReconnectData(config.publicBaseUrl, 'not_connected');
    if (error instanceof HubSpotApiError && (error.retryable || error.status >= 500))
      throw new CompanyCardHubSpotUnavailableError();
    throw error;
  }
  const { contracts, truncated } = await listCompanyContracts(db, config.publicBaseUrl, {
    organizationId: connection.organizationId,
    portalId: query.portalId,
    dealIds,
  });
  return {
    state: 'ready',
    company: { id: query.companyId },
    dealCount: dealIds.length,
    contracts,
    truncated,
  };
}

export const hubspotCompanyCardRoutes: FastifyPluginAsync = async (app) => {
  // A GET: no body is expected; a body sent anyway is kept raw so the signature covers it.
  acceptRawJson(app, { bodyLimit: 1024 });
  app.addHook('preHandler', requireHubSpotSignature('v3'));

  app.get('/card/company', async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    return loadCompanyCard(request);
  });
};
