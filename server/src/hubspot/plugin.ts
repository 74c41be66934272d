import type { FastifyInstance } from 'fastify';

import { hubspotCardRoutes } from './card/routes.ts';
import { hubspotCompanyCardRoutes } from './company-card/routes.ts';
import { hubspotDecisionRoutes } from './decision/routes.ts';
import { hubspotOAuthRoutes } from './install/routes.ts';
import { hubspotSettingsRoutes } from './settings/routes.ts';
import { hubspotRoutingRulesRoutes } from './settings/rules-routes.ts';
import { hubspotSyncRoutes } from './webhooks/routes.ts';
import { hubspotWorkflowRoutes } from './workflow/routes.ts';

/**
 * Every HubSpot-facing route, under `/api/v1/integrations/hubspot`: the browser install leg,
 * and the signed endpoints HubSpot calls (webhook deliveries and the decision action, the
 * workflow action, the Deal cards, the Company card and the settings page through `hubspot.fetch`). Each signed
 * feature keeps the raw body for its signature check in its own encapsulated scope, with
 * the body limit that fits what HubSpot sends it.
 */
export async function hubspotRoutes(app: FastifyInstance): Promise<void> {
  await app.register(hubspotOAuthRoutes);
  await app.register(hubspotSyncRoutes);
  await app.register(hubspotDecisionRoutes);
  await app.register(hubspotWorkflowRoutes);
  await app.register(hubspotCardRoutes);
  await app.register(hubspotCompanyCardRoutes);
  await app.register(hubspotSettingsRoutes);
  await app.register(hubspotRoutingRulesRoutes);
}
