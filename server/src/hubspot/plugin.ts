import type { FastifyPluginAsync } from 'fastify';

import { hubspotSettingsRoutes } from './settings/routes.ts';
import { hubspotCardRoutes } from './card/routes.ts';

/**
 * The backends of the app's UI extensions (the Deal card and the settings page), both
 * called through v3-signed `hubspot.fetch`. Register under `/api/v1/integrations/hubspot`.
 */
export const hubspotUiExtensionRoutes: FastifyPluginAsync = async (app) => {
  await app.register(hubspotCardRoutes);
  await app.register(hubspotSettingsRoutes);
};
