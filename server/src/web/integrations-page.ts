import type { FastifyPluginAsync } from 'fastify';

import {
  getOrganizationIntegration,
  toOrganizationIntegrationView,
} from '../core/integrations/organization-integrations.ts';
import { getSyncHealth, retryFailedSyncs, type SyncHealth } from '../hubspot/outbox/health.ts';
import { html, type SafeHtml } from '../platform/http/html.ts';
import { page } from './layout.ts';
import { noticeFromQuery } from './notices.ts';
import { requireCsrf, requirePageSession, sessionOf } from '../core/auth/session-plugin.ts';

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

function syncHealthSection(health: SyncHealth, csrf: SafeHtml): SafeHtml {
  return html`<h2 class="mt-20">Sync health</h2>
    <dl data-testid="sync-health">
      <dt>Last update written to HubSpot</dt>
      <dd>${when(health.lastOutboundAt)}</dd>
      <dt>Last update from HubSpot</dt>
      <dd>${when(health.lastInboundAt)}</dd>
      <dt>Waiting to be written</dt>
      <dd>${health.pendingCount}</dd>
      <dt>Failed</dt>
      <dd>
        ${
          health.failedCount === 0
            ? html`<span class="badge ok">None</span>`
            : html`<span class="badge bad">${health.failedCount}</span>
                ${health.failuresByCause.map((c) => html` <code>${c.cause}</code> × ${c.count}`)}
                <form method="post" action="/integrations/hubspot/retry-failed" class="inline">
                  ${csrf}<button class="secondary" type="submit">Retry failed</button>
                </form>`
        }
      </dd>
    </dl>
    ${
      health.failedDeals.length > 0
        ? html`<table class="mt-10">
            <thead>
              <tr>
                <th>Deal</th>
                <th>Why</th>
                <th>When</th>
              </tr>
            </thead>
            <tbody>
              ${health.failedDeals.slice(0, 10).map(
                (f) =>
                  html`<tr>
                    <td>${f.dealId}</td>
                    <td>${f.reason}</td>
                    <td>${when(f.at)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : null
    }`;
}

/** The LexiContract integrations page: connect, watch and disconnect HubSpot. */
export const integrationsPage: FastifyPluginAsync = async (app) => {
  app.post(
    '/integrations/hubspot/retry-failed',
    { preHandler: [requirePageSession, requireCsrf] },
    async (request, reply) => {
      const session = sessionOf(request);
      await retryFailedSyncs(app.db, app.jobs, session.organizationId);
      return reply.redirect('/integrations?notice=sync_retried');
    },
  );

  app.get('/integrations', { preHandler: requirePageSession }, async (request, reply) => {
    const session = sessionOf(request);
    const row = await getOrganizationIntegration(app.db, session.organizationId, 'hubspot');
    const view = row ? toOrganizationIntegrationView(row) : undefined;
    const status = view?.status ?? 'none';
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;
    const provisioning = row?.provisioning_status ?? 'pending';
    const health = view ? await getSyncHealth(app.db, session.organizationId) : undefined;

    const actions =
      status === 'connected'
        ? // A confirmation step instead of an inline confirm() (the CSP forbids inline script).
          html`<a
            class="button danger"
            href="/integrations/hubspot/disconnect"
            data-testid="disconnect-hubspot"
            >Disconnect</a
          >`
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
        ${details} ${health ? syncHealthSection(health, csrf) : null}
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
