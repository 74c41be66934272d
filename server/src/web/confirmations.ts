import type { FastifyPluginAsync } from 'fastify';

import { html } from '../platform/http/html.ts';
import { requirePageSession, sessionOf } from '../core/auth/session-plugin.ts';
import { page } from './layout.ts';

/**
 * Confirmation steps for destructive actions, as pages of their own: the CSP forbids the
 * inline `confirm()` handlers they used to be.
 */
export const confirmationPages: FastifyPluginAsync = async (app) => {
  app.get(
    '/integrations/hubspot/disconnect',
    { preHandler: requirePageSession },
    async (request, reply) => {
      const session = sessionOf(request);
      const body = html`<div class="card narrow">
        <h1>Disconnect HubSpot?</h1>
        <p>The app is uninstalled from the portal; contracts stay in LexiContract.</p>
        <form method="post" action="/api/v1/integrations/hubspot/disconnect" class="inline">
          <input type="hidden" name="_csrf" value="${session.csrfToken}" />
          <button class="danger" type="submit" data-testid="confirm-disconnect-hubspot">
            Disconnect
          </button>
          <a class="button secondary" href="/integrations">Cancel</a>
        </form>
      </div>`;
      return reply
        .type('text/html')
        .send(page({ title: 'Disconnect HubSpot', session, active: '/integrations', body }));
    },
  );
};
