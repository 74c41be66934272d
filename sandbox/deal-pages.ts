import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';

import { cardHostRoutes } from './card-host-routes.ts';
import { createCardHost, SANDBOX_PAGE_CSP, type CardHost } from './card-host/card-host.ts';
import { CARD_HOST_STYLE } from './card-host/style.ts';
import {
  ASSOCIATION_TYPE_IDS,
  dealLinks,
  type CrmRecord,
  type DealAssociationRecord,
} from './crm-objects.ts';
import {
  STATUS_PROPERTY,
  StatusEditWatch,
  actionRunsOf,
  formatAmount,
  formatDay,
  formatTime,
  optionLabel,
  parseAttachmentIdsOf,
} from './deal-pages-data.ts';
import type { SandboxRuntime } from './runtime.ts';
import type { DealRecord, PortalRecord } from './state.ts';
import type { SandboxControl } from './types.ts';

/**
 * Pages standing in for HubSpot's Deal record and the app's settings page, for sandbox mode.
 * The record shows the deal's properties, and the app's REAL UI extensions (its cards from
 * hubspot-app, rendered by the card host: sandbox/card-host) where HubSpot puts them; the
 * visitor can also move the deal to a stage (Legal Review fires the workflow action at the
 * app) and edit `lexicontract_status` as a HubSpot user would. Everything reaches the app
 * over HTTP, signed, exactly as from HubSpot.
 */

export function esc(text: unknown): string {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#33475b;background:#f5f8fa}
.banner{background:#ff7a59;color:#fff;padding:8px 24px;font-weight:600}
header{background:#2d3e50;color:#fff;padding:12px 24px;font-weight:600;display:flex;gap:24px}
header a{color:#fff;text-decoration:none}
main{max-width:1240px;margin:0 auto;padding:24px;display:grid;grid-template-columns:320px minmax(0,1fr);gap:20px}
main.three{grid-template-columns:300px minmax(0,1fr) 280px}
main.single{display:block}
.panel{background:#fff;border:1px solid #cbd6e2;border-radius:6px;padding:16px 18px;margin-bottom:16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:0 0 10px;text-transform:uppercase;letter-spacing:.04em;color:#516f90}
table{width:100%;border-collapse:collapse;table-layout:fixed}td,th{padding:6px 8px;border-bottom:1px solid #eaf0f6;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{color:#516f90;font-weight:600;width:42%}
table.list th{width:auto}
.tag{display:inline-block;padding:1px 8px;border-radius:3px;background:#eaf0f6;font-size:12px;font-weight:600}
button{font:inherit;background:#ff7a59;color:#fff;border:0;border-radius:3px;padding:7px 14px;cursor:pointer}
button.secondary{background:#fff;color:#33475b;border:1px solid #cbd6e2}
select{font:inherit;padding:5px;max-width:100%}.muted{color:#7c98b6}.msg{padding:10px 14px;border-radius:4px;margin:12px 24px 0}
.ok{background:#e5f8f6;border:1px solid #7fded2}.bad{background:#fde8e9;border:1px solid #f2545b}
.note{background:#fef8f0;border:1px solid #fcc57e;border-left-width:4px;border-radius:3px;padding:10px 12px;margin-top:12px}
.activity{list-style:none;margin:0;padding:0}.activity li{border-left:3px solid #cbd6e2;padding:4px 0 8px 12px;margin-bottom:8px}
.activity dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 12px;margin:6px 0 0}.activity dt{color:#516f90}.activity dd{margin:0;overflow-wrap:anywhere}
a{color:#0091ae}
${CARD_HOST_STYLE}`;

export interface LayoutOptions {
  readonly columns?: 'single' | 'two' | 'three';
  readonly message?: { ok: boolean; text: string } | undefined;
  readonly scripts?: string;
}

/**
 * The sandbox's record-page frame, shared by the company record (company-pages.ts), which draws
 * its cards the same way: `cardPanels({ objectType: 'companies', … })` of the one card host
 * gives the tab and sidebar panels and the scripts; `sendPage` serves the page under the CSP
 * the scripts need.
 */
export function layout(title: string, body: string, options: LayoutOptions = {}): string {
  const message = options.message;
  const columns = options.columns ?? 'single';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · HubSpot sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><style>${STYLE}</style></head><body>
<div class="banner">HubSpot SANDBOX: a local stand-in for HubSpot, not HubSpot. Nothing here reaches a real HubSpot account.</div>
<header><a href="/">Sandbox CRM · Deals</a></header>
<div id="card-host-alerts" class="hs-alerts" aria-live="polite"></div>
${message ? `<p class="msg ${message.ok ? 'ok' : 'bad'}" role="status" data-testid="sandbox-message">${esc(message.text)}</p>` : ''}
<main class="${columns === 'two' ? '' : columns}">${body}</main>
${options.scripts ?? ''}</body></html>`;
}

export function sendPage(reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', SANDBOX_PAGE_CSP)
    .send(html);
}

const MESSAGES: Record<string, { ok: boolean; text: string }> = {
  moved: { ok: true, text: 'Deal stage changed.' },
  moved_action: {
    ok: true,
    text: 'Deal moved to Legal Review: the workflow action "Send to LexiContract legal review" ran (see Activity).',
  },
  status_set: {
    ok: true,
    text: 'LexiContract status changed as a HubSpot user would (a webhook event goes to the app).',
  },
};

/** The deal properties the record shows, in this order. */
const SHOWN_PROPERTIES = [
  'dealname',
  'amount',
  'closedate',
  'pipeline',
  'dealstage',
  STATUS_PROPERTY,
  'lexicontract_contract_url',
] as const;

/** `hubspot.fetch` goes to the app registration's `appBaseUrl` (sandbox/card-host-routes.ts). */
export interface DealPagesOptions {
  /** The card host; default: the app's extensions from this repository's hubspot-app. */
  readonly cardHost?: CardHost;
  /** The home page's "Start over" panel (`start-over.ts`). */
  readonly startOverForm?: string;
}

/** The deal↔company link is the deal's primary company (HubSpot's type 5). */
export function isPrimaryCompany(link: DealAssociationRecord): boolean {
  return link.types.some(
    (t) =>
      t.category === 'HUBSPOT_DEFINED' && t.typeId === ASSOCIATION_TYPE_IDS.dealToCompanyPrimary,
  );
}

export function companyName(company: CrmRecord): string {
  return company.properties.get('name') ?? `Company ${company.id}`;
}

/** A company's record page (sandbox/company-pages.ts). */
export function companyUrl(portalId: number, companyId: string): string {
  return `/companies/${portalId}/${encodeURIComponent(companyId)}`;
}

/** The deal page's "Companies" panel: each company of the deal, "Primary" where it is. */
export function dealCompaniesPanel(portal: PortalRecord, dealId: string): string {
  const items = dealLinks(portal, dealId, 'companies').flatMap((link) => {
    const company = portal.companies.get(link.toId);
    if (!company) return [];
    const primary = isPrimaryCompany(link) ? ' <span class="tag">Primary</span>' : '';
    return [
      `<li><a href="${esc(companyUrl(portal.portalId, company.id))}" data-testid="company-link">${esc(companyName(company))}</a>${primary}</li>`,
    ];
  });
  return `<div class="panel" data-testid="deal-companies"><h2>Companies</h2>${
    items.length > 0 ? `<ul>${items.join('')}</ul>` : '<p class="muted">No companies.</p>'
  }</div>`;
}

/** The home page's line of a portal's companies. */
export function portalCompaniesLine(portal: PortalRecord): string {
  const links = [...portal.companies.values()].map(
    (company) =>
      `<a href="${esc(companyUrl(portal.portalId, company.id))}" data-testid="home-company-link">${esc(companyName(company))}</a>`,
  );
  return links.length > 0 ? `<p>Companies: ${links.join(' · ')}</p>` : '';
}

/** The sandbox's 404 page, for a record, account or id that does not exist. */
export function notFound(reply: FastifyReply, what: string): FastifyReply {
  return sendPage(
    reply,
    layout('Not found', `<div class="panel"><p>No such ${what}.</p></div>`),
    404,
  );
}

/** What a portal id in a sandbox page's path is. */
export const PortalIdParam = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/)
  .transform(Number);

export async function dealPages(
  app: FastifyInstance,
  runtime: SandboxRuntime,
  control: SandboxControl,
  options: DealPagesOptions = {},
): Promise<void> {
  const state = runtime.state;
  const host = options.cardHost ?? createCardHost({ appId: runtime.state.app.appId });
  await cardHostRoutes(app, runtime, host);

  const statusEdits = new StatusEditWatch();
  const forward = state.onDealChanges;
  state.onDealChanges = (changes) => {
    statusEdits.record(changes);
    forward(changes);
  };

  function stageLabel(portalId: number, stageId: string | undefined): string {
    if (!stageId) return '—';
    for (const pipeline of control.pipelines(portalId)) {
      const stage = pipeline.stages.find((s) => s.id === stageId);
      if (stage) return stage.label;
    }
    return stageId;
  }

  function pipelineLabel(portalId: number, pipelineId: string | undefined): string {
    if (!pipelineId) return '—';
    return control.pipelines(portalId).find((p) => p.id === pipelineId)?.label ?? pipelineId;
  }

  function shownValue(portal: PortalRecord, deal: DealRecord, name: string): string {
    const value = deal.properties.get(name);
    switch (name) {
      case 'amount':
        return esc(formatAmount(value, deal.properties.get('deal_currency_code')));
      case 'closedate':
        return esc(formatDay(value));
      case 'pipeline':
        return esc(pipelineLabel(portal.portalId, value));
      case 'dealstage':
        return esc(stageLabel(portal.portalId, value));
      case STATUS_PROPERTY:
        return value ? `<span class="tag">${esc(optionLabel(portal, name, value))}</span>` : '—';
      case 'lexicontract_contract_url':
        return value
          ? `<a href="${esc(value)}" target="_blank" rel="noreferrer">Open in LexiContract</a>`
          : '—';
      default:
        return esc(value ?? '—');
    }
  }

  function propertiesTable(portal: PortalRecord, deal: DealRecord): string {
    return `<table>${SHOWN_PROPERTIES.map(
      (name) =>
        `<tr><th>${esc(portal.properties.get(name)?.label ?? name)}</th><td data-testid="prop-${esc(name)}">${shownValue(portal, deal, name)}</td></tr>`,
    ).join('')}</table>`;
  }

  app.get('/', async (_request, reply) => {
    const portals = [...state.portals.values()];
    const body = portals
      .map((portal) => {
        const rows = [...portal.deals.values()]
          .map(
            (deal) =>
              `<tr><td><a href="/deals/${portal.portalId}/${esc(deal.id)}" data-testid="deal-link">${esc(deal.properties.get('dealname') ?? deal.id)}</a></td>
            <td>${esc(formatAmount(deal.properties.get('amount'), deal.properties.get('deal_currency_code')))}</td><td>${esc(stageLabel(portal.portalId, deal.properties.get('dealstage')))}</td>
            <td>${deal.properties.get(STATUS_PROPERTY) ? `<span class="tag">${esc(optionLabel(portal, STATUS_PROPERTY, deal.properties.get(STATUS_PROPERTY)))}</span>` : '—'}</td></tr>`,
          )
          .join('');
        const installed = portal.installed
          ? `<span class="tag">app installed</span> · <a href="/settings/${portal.portalId}" data-testid="settings-link">App settings</a>`
          : '<span class="tag">app not installed</span>';
        return `<div class="panel"><h2>${esc(portal.name)} · account ${portal.portalId} · ${installed}</h2>
          <table class="list"><tr><th>Deal</th><th>Amount</th><th>Stage</th><th>LexiContract status</th></tr>${rows || '<tr><td colspan="4" class="muted">No deals.</td></tr>'}</table>${portalCompaniesLine(portal)}</div>`;
      })
      .join('');
    return sendPage(
      reply,
      layout('Deals', (body || '<p>No portals.</p>') + (options.startOverForm ?? '')),
    );
  });

  const DealParams = z.object({ portalId: PortalIdParam, dealId: z.string().max(40) });
  const PortalParams = z.object({ portalId: PortalIdParam });

  function found(portalId: number, dealId: string) {
    const portal = state.portals.get(portalId);
    const deal = portal?.deals.get(dealId);
    return portal && deal ? { portal, deal } : undefined;
  }

  function revertNote(portal: PortalRecord, dealId: string): string {
    const revert = statusEdits.revertOf(portal.portalId, dealId);
    if (!revert) return '';
    const label = (value: string) => optionLabel(portal, STATUS_PROPERTY, value);
    return `<div class="note" role="note" data-testid="status-reverted"><strong>LexiContract put the status back.</strong>
      You set it to “${esc(label(revert.userValue))}” at ${esc(formatTime(revert.userAt))}; the app restored “${esc(label(revert.restoredValue))}” at ${esc(formatTime(revert.restoredAt))}.
      The status mirrors the contract in LexiContract, where legal changes it; only “Cancelled” set here is taken as an instruction (it cancels the open contract).</div>`;
  }

  function activity(portalId: number, dealId: string): string {
    const runs = actionRunsOf(runtime, portalId, dealId);
    if (runs.length === 0) {
      return '<p class="muted" data-testid="no-activity">No workflow action ran on this deal yet.</p>';
    }
    const fields = (values: Record<string, unknown>) =>
      Object.entries(values)
        .map(
          ([k, v]) =>
            `<dt>${esc(k)}</dt><dd>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</dd>`,
        )
        .join('');
    const items = runs.map((run) => {
      const answered =
        run.execution.status === 0
          ? `the app did not answer (${esc(run.execution.error ?? 'no response')})`
          : `the app answered HTTP ${run.execution.status}`;
      const completions = run.completions
        .map(
          (c) =>
            `<p>Completed by the app at ${esc(formatTime(c.time))}${c.failureReasonType ? ` (failure: ${esc(c.failureReasonType)})` : ''}:</p><dl>${fields(c.outputFields)}</dl>`,
        )
        .join('');
      const immediate =
        Object.keys(run.outputFields).length > 0 ? `<dl>${fields(run.outputFields)}</dl>` : '';
      return `<li data-testid="workflow-run"><strong>Workflow action “Send to LexiContract legal review”</strong>: ${answered}.${immediate}${completions}</li>`;
    });
    return `<ul class="activity">${items.join('')}</ul>`;
  }

  app.get('/deals/:portalId/:dealId/properties', async (request, reply) => {
    const params = DealParams.safeParse(request.params);
    if (!params.success) return notFound(reply, 'deal');
    const { portalId, dealId } = params.data;
    const record = found(portalId, dealId);
    if (!record) return notFound(reply, 'deal');
    return sendPage(reply, propertiesTable(record.portal, record.deal));
  });

  app.get('/deals/:portalId/:dealId', async (request, reply) => {
    const params = DealParams.safeParse(request.params);
    if (!params.success) return notFound(reply, 'deal');
    const { portalId, dealId } = params.data;
    const query = z.object({ m: z.string().max(40).optional() }).parse(request.query);
    const record = found(portalId, dealId);
    if (!record) return notFound(reply, 'deal');
    const { portal, deal } = record;
    const user = portal.users[0];

    const attachments = parseAttachmentIdsOf(portal, deal)
      .map(
        (file) =>
          `<li>${esc(file.name)} <span class="muted">${esc(file.contentType)}, ${Math.ceil(file.size / 1024)} KB${file.access.includes('SENSITIVE') ? ', sensitive' : ''}</span></li>`,
      )
      .join('');

    let cards = { tab: '', sidebar: '', scripts: '' };
    if (!portal.installed) {
      cards.tab =
        '<div class="panel" data-testid="app-not-installed"><h2>LexiContract</h2><p class="muted">The app is not installed in this account, so HubSpot shows none of its cards. Connect HubSpot from LexiContract first.</p></div>';
    } else if (user) {
      cards = await host.cardPanels({
        portalId,
        objectType: 'deals',
        objectId: dealId,
        user: { id: user.id, email: user.email, name: user.email },
        propertiesUrl: `/deals/${portalId}/${encodeURIComponent(dealId)}/properties`,
      });
    }

    const stages = control
      .pipelines(portalId)
      .flatMap((p) => p.stages)
      .map(
        (s) =>
          `<option value="${esc(s.id)}" ${s.id === deal.properties.get('dealstage') ? 'selected' : ''}>${esc(s.label)}</option>`,
      )
      .join('');
    const statusOptions = (portal.properties.get(STATUS_PROPERTY)?.options ?? [])
      .map(
        (o) =>
          `<option value="${esc(o.value)}" ${o.value === deal.properties.get(STATUS_PROPERTY) ? 'selected' : ''}>${esc(o.label)}</option>`,
      )
      .join('');

    const left = `<div class="panel"><h1 data-testid="deal-name">${esc(deal.properties.get('dealname') ?? deal.id)}</h1><p class="muted">Deal ${esc(deal.id)} · ${esc(portal.name)}</p>
      <div data-card-host-properties data-testid="deal-properties">${propertiesTable(portal, deal)}</div>${revertNote(portal, dealId)}</div>
      ${dealCompaniesPanel(portal, dealId)}
      <div class="panel"><h2>Move stage</h2><form method="post" action="/deals/${portalId}/${esc(dealId)}/stage">
        <select name="stageId" data-testid="stage-select" aria-label="Deal stage">${stages}</select> <button class="secondary" type="submit" data-testid="move-stage">Move</button></form>
        <p class="muted">Moving to “Legal Review” runs the workflow action “Send to LexiContract legal review”.</p></div>
      <div class="panel"><h2>Edit LexiContract status as a user</h2>${
        statusOptions
          ? `<form method="post" action="/deals/${portalId}/${esc(dealId)}/status"><select name="value" data-testid="status-select" aria-label="LexiContract status">${statusOptions}</select> <button class="secondary" type="submit" data-testid="set-status">Save</button></form>
             <p class="muted">The app keeps this property equal to the contract's status: it puts any other value back.</p>`
          : '<p class="muted">The property does not exist yet in this account (the app creates it when installed).</p>'
      }</div>`;
    const middle = `${cards.tab}
      <div class="panel"><h2>Files on the deal's notes</h2>${attachments ? `<ul>${attachments}</ul>` : '<p class="muted">No attachments.</p>'}</div>
      <div class="panel" data-testid="activity"><h2>Activity</h2>${activity(portalId, dealId)}</div>`;
    const body = cards.sidebar
      ? `<div>${left}</div><div>${middle}</div><div>${cards.sidebar}</div>`
      : `<div>${left}</div><div>${middle}</div>`;
    return sendPage(
      reply,
      layout(deal.properties.get('dealname') ?? 'Deal', body, {
        columns: cards.sidebar ? 'three' : 'two',
        message: query.m ? MESSAGES[query.m] : undefined,
        scripts: cards.scripts,
      }),
    );
  });

  app.get('/settings/:portalId', async (request, reply) => {
    const params = PortalParams.safeParse(request.params);
    if (!params.success) return notFound(reply, 'account');
    const { portalId } = params.data;
    const portal = state.portals.get(portalId);
    const user = portal?.users[0];
    if (!portal || !user) return notFound(reply, 'account');
    const heading = `<div class="panel"><h1>Connected apps · LexiContract</h1><p class="muted">${esc(portal.name)} · account ${portalId}: the app's settings page, as HubSpot shows it under Settings › Integrations › Connected apps.</p></div>`;
    if (!portal.installed) {
      return sendPage(
        reply,
        layout(
          'App settings',
          `${heading}<div class="panel" data-testid="app-not-installed"><p class="muted">The app is not installed in this account.</p></div>`,
        ),
      );
    }
    const settings = await host.settingsPanel({
      portalId,
      user: { id: user.id, email: user.email, name: user.email },
    });
    return sendPage(
      reply,
      layout(
        'App settings',
        `${heading}${settings?.panel ?? '<div class="panel"><p class="muted">The app has no settings page.</p></div>'}`,
        { scripts: settings?.scripts ?? '' },
      ),
    );
  });

  app.post('/deals/:portalId/:dealId/stage', async (request, reply) => {
    const { portalId, dealId } = DealParams.parse(request.params);
    const { stageId } = z.object({ stageId: z.string().max(40) }).parse(request.body);
    const moved = await control.moveDealToStage(portalId, dealId, stageId);
    return reply.redirect(
      `/deals/${portalId}/${dealId}?m=${moved.workflowAction ? 'moved_action' : 'moved'}`,
    );
  });

  app.post('/deals/:portalId/:dealId/status', async (request, reply) => {
    const { portalId, dealId } = DealParams.parse(request.params);
    const { value } = z.object({ value: z.string().max(40) }).parse(request.body);
    control.editDealAsUser(portalId, dealId, { [STATUS_PROPERTY]: value });
    return reply.redirect(`/deals/${portalId}/${dealId}?m=status_set`);
  });
}
