import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

import { requireCsrf, requirePageSession, sessionOf } from '../core/auth/session-plugin.ts';
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

function actionHtml(action: PanelAction, csrf: SafeHtml): SafeHtml {
  const testId = action.testId ? html` data-testid="${action.testId}"` : null;
  if (action.kind === 'link') {
    const style = action.style && action.style !== 'primary' ? ` ${action.style}` : '';
    return html`<a class="button${style}" href="${action.href}" ${testId}>${action.label}</a>`;
  }
  const confirm = action.confirm ? html` onsubmit="return confirm('${action.confirm}')"` : null;
  return html`<form method="post" action="${action.href}" class="inline" ${confirm}>
    ${csrf}<button class="${action.style ?? 'primary'}" type="submit" ${testId}>
      ${action.label}
    </button>
  </form>`;
}

function factsHtml(facts: readonly PanelFact[], csrf: SafeHtml): SafeHtml {
  return html`<dl>
    ${facts.map(
      (fact) =>
        html`<dt>${fact.label}</dt>
          <dd${fact.testId ? html` data-testid="${fact.testId}"` : null}>
            ${valueHtml(fact.value)} ${fact.action ? actionHtml(fact.action, csrf) : null}
          </dd>`,
    )}
  </dl>`;
}

function sectionHtml(section: PanelSection, csrf: SafeHtml): SafeHtml {
  return html`<h2 class="section">${section.title}</h2>
    <div${section.testId ? html` data-testid="${section.testId}"` : null}>
      ${factsHtml(section.facts, csrf)}
    </div>
    ${
      section.table
        ? html`<table class="section">
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

function panelHtml(adapter: CrmAdapter, panel: ConnectionPanel, csrf: SafeHtml): SafeHtml {
  return html`<div class="card" data-testid="${adapter.id}-card">
    <div class="row">
      <div class="grow">
        <h2>
          ${adapter.name}
          <span class="${STATUS_BADGE_CLASS[panel.status]}" data-testid="${adapter.id}-status"
            >${panel.statusLabel}</span
          >
        </h2>
      </div>
      <div>${panel.actions.map((a) => actionHtml(a, csrf))}</div>
    </div>
    ${panel.warning ? html`<div class="flash error">${panel.warning}</div>` : null}
    ${
      panel.status === 'none' && panel.facts.length === 0
        ? html`<p class="muted">${panel.pitch}</p>`
        : factsHtml(panel.facts, csrf)
    }
    ${panel.sections.map((s) => sectionHtml(s, csrf))}
  </div>`;
}

/** The integrations page: one card per registered CRM, and the catalog's others as "not yet". */
export const integrationsPage: FastifyPluginAsync = async (app) => {
  app.post(
    '/integrations/:integrationId/retry-failed',
    { preHandler: [requirePageSession, requireCsrf] },
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

  app.get('/integrations', { preHandler: requirePageSession }, async (request, reply) => {
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
