import type { FastifyPluginAsync } from 'fastify';

import {
  getOrganizationIntegration,
  toOrganizationIntegrationView,
} from '../integrations/organization-integrations.ts';
import { html, type SafeHtml } from './html.ts';
import { page } from './layout.ts';
import { noticeFromQuery } from './notices.ts';
import { requirePageSession, sessionOf } from './session-plugin.ts';

function when(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—';
}

const STATUS_BADGES: Record<string, SafeHtml> = {
  connected: html`<span class="badge ok" data-testid="hubspot-status">Connected</span>`,
  needs_reconnect: html`<span class="badge warn" data-testid="hubspot-status"
    >Needs reconnect</span
  >`,
  disconnected: html`<span class="badge" data-testid="hubspot-status">Disconnected</span>`,
  none: html`<span class="badge" data-testid="hubspot-status">Not connected</span>`,
};

/** The LexiContract integrations page: connect, watch and disconnect HubSpot. */
export const integrationsPage: FastifyPluginAsync = async (app) => {
  app.get('/integrations', { preHandler: requirePageSession }, async (request, reply) => {
    const session = sessionOf(request);
    const row = await getOrganizationIntegration(app.db, session.organizationId, 'hubspot');
    const view = row ? toOrganizationIntegrationView(row) : undefined;
    const status = view?.status ?? 'none';
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;
    const provisioning = row?.provisioning_status ?? 'pending';

    const actions =
      status === 'connected'
        ? html`<form
            method="post"
            action="/api/v1/integrations/hubspot/disconnect"
            class="inline"
            onsubmit="return confirm('Disconnect HubSpot? The app is uninstalled from the portal; contracts stay in LexiContract.')"
          >
            ${csrf}<button class="danger" type="submit" data-testid="disconnect-hubspot">
              Disconnect
            </button>
          </form>`
        : html`<a
            class="button"
            href="/api/v1/integrations/hubspot/auth"
            data-testid="connect-hubspot"
            >${status === 'none' ? 'Connect HubSpot' : 'Reconnect HubSpot'}</a
          >`;

    const details = view
      ? html`<dl>
          <dt>Portal</dt>
          <dd data-testid="hubspot-portal">
            ${view.externalAccountId ?? '—'}${view.externalAccountName ? html` · ${view.externalAccountName}` : null}
          </dd>
          <dt>Installed by</dt>
          <dd>${view.installerEmail ?? '—'}</dd>
          <dt>Connected since</dt>
          <dd>${when(view.connectedAt)}</dd>
          ${
            view.disconnectedAt && status === 'disconnected'
              ? html`<dt>Disconnected</dt>
                  <dd>${when(view.disconnectedAt)}</dd>`
              : null
          }
          <dt>Granted scopes</dt>
          <dd>
            ${view.grantedScopes.length > 0 ? view.grantedScopes.map((s) => html`<code>${s}</code> `) : '—'}
          </dd>
          <dt>Portal setup</dt>
          <dd data-testid="hubspot-provisioning">
            ${
              provisioning === 'done'
                ? html`<span class="badge ok">Done</span>
                    <span class="muted">LexiContract properties exist on deals</span>`
                : provisioning === 'failed'
                  ? html`<span class="badge bad">Failed</span> ${row?.provisioning_error ?? ''}
                      ${status === 'connected' ? html`<form method="post" action="/api/v1/integrations/hubspot/provisioning/retry" class="inline">${csrf}<button class="secondary" type="submit">Retry setup</button></form>` : null}`
                  : html`<span class="badge">Pending</span>`
            }
          </dd>
          ${
            view.lastError
              ? html`<dt>Last problem</dt>
                  <dd>${view.lastError} <span class="muted">(${when(view.lastErrorAt)})</span></dd>`
              : null
          }
        </dl>`
      : html`<p class="muted">
          Connect a HubSpot portal to send deals to legal review from HubSpot and keep each deal's
          <code>lexicontract_status</code> up to date.
        </p>`;

    const body = html` <h1>Integrations</h1>
      <p class="sub">Connect the CRMs your sales team works in.</p>
      <div class="card" data-testid="hubspot-card">
        <div class="row">
          <div class="grow"><h2>HubSpot ${STATUS_BADGES[status] ?? null}</h2></div>
          <div>${actions}</div>
        </div>
        ${
          status === 'needs_reconnect'
            ? html`<div class="flash error">
                HubSpot no longer accepts this connection (the app was uninstalled or access was
                revoked). Deals are not synced until an admin reconnects.
              </div>`
            : null
        }
        ${details}
      </div>
      <div class="card">
        <div class="row">
          <div class="grow">
            <h2>Salesforce <span class="badge">Not available yet</span></h2>
            <p class="muted">Salesforce support is on the roadmap.</p>
          </div>
        </div>
      </div>`;
    return reply.type('text/html').send(
      page({
        title: 'Integrations',
        session,
        active: '/integrations',
        flash: noticeFromQuery(request.query),
        body,
      }),
    );
  });
};
