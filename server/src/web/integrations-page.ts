import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

import { requireCsrf, sessionOf } from '../core/auth/session-plugin.ts';
import { requireSignedIn } from './sign-in-gate.ts';
import { listIntegrationCatalog } from '../core/integrations/organization-integrations.ts';
import type {
  ConnectionPanel,
  CrmAdapter,
  PanelAction,
  PanelFact,
  PanelSection,
  PanelValue,
} from '../crm/port.ts';
import { NotFoundError } from '../platform/errors.ts';
import { html, type SafeHtml } from '../platform/http/html.ts';
import { parseInput } from '../platform/http/validation.ts';
import { page } from './layout.ts';
import { noticeFromQuery } from './notices.ts';

const STATUS_BADGE_CLASS: Record<ConnectionPanel['status'], string> = {
  connected: 'badge ok',
  needs_reconnect: 'badge warn',
  disconnected: 'badge',
  none: 'badge',
};

function valueHtml(value: PanelValue): SafeHtml {
  const text =
    value.badge === undefined
      ? value.text
      : html`<span class="badge${value.badge === 'plain' ? '' : ` ${value.badge}`}"
          >${value.text}</span
        >`;
  return html`${text}${value.codes ? value.codes.map((c) => html` <code>${c}</code>`) : null}${
    value.note ? html` <span class="muted">${value.note}</span>` : null
  }`;
}

function actionHtml(adapter: CrmAdapter, action: PanelAction, csrf: SafeHtml): SafeHtml {
  const testId = action.testId ? html` data-testid="${action.testId}"` : null;
  if (action.kind === 'post' && action.confirm && action.testId) {
    // A confirmation page of its own: the CSP forbids an inline confirm() handler.
    return html`<a
      class="button ${action.style ?? 'primary'}"
      href="/integrations/${adapter.id}/confirm/${action.testId}"
      ${testId}
      >${action.label}</a
    >`;
  }
  if (action.kind === 'link') {
    const style = action.style && action.style !== 'primary' ? ` ${action.style}` : '';
    return html`<a class="button${style}" href="${action.href}" ${testId}>${action.label}</a>`;
  }
  return html`<form method="post" action="${action.href}" class="inline">
    ${csrf}<button class="${action.style ?? 'primary'}" type="submit" ${testId}>
      ${action.label}
    </button>
  </form>`;
}

function factsHtml(adapter: CrmAdapter, facts: readonly PanelFact[], csrf: SafeHtml): SafeHtml {
  return html`<dl>
    ${facts.map(
      (fact) =>
        html`<dt>${fact.label}</dt>
          <dd${fact.testId ? html` data-testid="${fact.testId}"` : null}>
            ${valueHtml(fact.value)} ${fact.action ? actionHtml(adapter, fact.action, csrf) : null}
          </dd>`,
    )}
  </dl>`;
}

function sectionHtml(adapter: CrmAdapter, section: PanelSection, csrf: SafeHtml): SafeHtml {
  return html`<h2 class="mt-20">${section.title}</h2>
    <div${section.testId ? html` data-testid="${section.testId}"` : null}>
      ${factsHtml(adapter, section.facts, csrf)}
    </div>
    ${
      section.table
        ? html`<table class="mt-10">
            <thead>
              <tr>
                ${section.table.columns.map((c) => html`<th>${c}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${section.table.rows.map(
                (row) =>
                  html`<tr>
                    ${row.map((cell) => html`<td>${cell}</td>`)}
                  </tr>`,
              )}
            </tbody>
          </table>`
        : null
    }`;
}

/** One line, so the badge's text is the element's whole text. */
function statusBadge(adapter: CrmAdapter, panel: ConnectionPanel): SafeHtml {
  const cls = STATUS_BADGE_CLASS[panel.status];
  const testId = `${adapter.id}-status`;
  return html`<span class="${cls}" data-testid="${testId}">${panel.statusLabel}</span>`;
}

function panelHtml(adapter: CrmAdapter, panel: ConnectionPanel, csrf: SafeHtml): SafeHtml {
  return html`<div class="card" data-testid="${adapter.id}-card">
    <div class="row">
      <div class="grow">
        <h2>${adapter.name} ${statusBadge(adapter, panel)}</h2>
      </div>
      <div>${panel.actions.map((a) => actionHtml(adapter, a, csrf))}</div>
    </div>
    ${panel.warning ? html`<div class="flash error">${panel.warning}</div>` : null}
    ${
      panel.status === 'none' && panel.facts.length === 0
        ? html`<p class="muted">${panel.pitch}</p>`
        : factsHtml(adapter, panel.facts, csrf)
    }
    ${panel.sections.map((s) => sectionHtml(adapter, s, csrf))}
  </div>`;
}

/** The integrations page: one card per registered CRM, and the catalog's others as "not yet". */
export const integrationsPage: FastifyPluginAsync = async (app) => {
  app.post(
    '/integrations/:integrationId/retry-failed',
    { preHandler: [requireSignedIn, requireCsrf] },
    async (request, reply) => {
      const session = sessionOf(request);
      const { integrationId } = parseInput(
        z.object({ integrationId: z.string().max(50) }),
        request.params,
        'integration',
      );
      const adapter = app.crm.get(integrationId);
      if (!adapter) throw new NotFoundError('integration_not_found', 'No such integration.');
      await adapter.retryFailedSyncs(app.db, app.jobs, session.organizationId);
      return reply.redirect('/integrations?notice=sync_retried');
    },
  );

  app.get(
    '/integrations/:integrationId/confirm/:action',
    { preHandler: requireSignedIn },
    async (request, reply) => {
      const session = sessionOf(request);
      const params = parseInput(
        z.object({ integrationId: z.string().max(50), action: z.string().max(100) }),
        request.params,
        'confirmation',
      );
      const adapter = app.crm.get(params.integrationId);
      const panel = adapter && (await adapter.connectionPanel(app.db, session.organizationId));
      const action = panel?.actions.find((a) => a.testId === params.action && a.confirm);
      if (!adapter || !action?.confirm)
        throw new NotFoundError('confirmation_not_found', 'Nothing to confirm here.');
      const body = html`<div class="card narrow">
        <h1>${action.label} ${adapter.name}?</h1>
        <p>${action.confirm}</p>
        <form method="post" action="${action.href}" class="inline">
          <input type="hidden" name="_csrf" value="${session.csrfToken}" />
          <button
            class="${action.style ?? 'primary'}"
            type="submit"
            data-testid="confirm-${action.testId ?? 'action'}"
          >
            ${action.label}
          </button>
          <a class="button secondary" href="/integrations">Cancel</a>
        </form>
      </div>`;
      return reply.type('text/html').send(
        page({
          title: `${action.label} ${adapter.name}`,
          session,
          active: '/integrations',
          body,
        }),
      );
    },
  );

  app.get('/integrations', { preHandler: requireSignedIn }, async (request, reply) => {
    const session = sessionOf(request);
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;
    const panels = await Promise.all(
      app.crm.adapters.map(async (adapter) =>
        panelHtml(adapter, await adapter.connectionPanel(app.db, session.organizationId), csrf),
      ),
    );
    const others = (await listIntegrationCatalog(app.db)).filter((i) => !app.crm.get(i.id));
    const body = html` <h1>Integrations</h1>
      <p class="sub">Connect the CRMs your sales team works in.</p>
      ${panels}
      ${others.map(
        (integration) =>
          html`<div class="card">
            <div class="row">
              <div class="grow">
                <h2>${integration.name} <span class="badge">Not available yet</span></h2>
                <p class="muted">${integration.name} support is on the roadmap.</p>
              </div>
            </div>
          </div>`,
      )}`;
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
