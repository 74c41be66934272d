import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { SandboxRuntime } from './runtime.ts';
import { parseAttachmentIdsOf } from './deal-pages-data.ts';
import type { SandboxControl } from './types.ts';

/**
 * Pages standing in for HubSpot's Deal record, for sandbox mode: the visitor sees the demo
 * deals with their `lexicontract_status`, and can (a) press "Send to Legal Review" the way
 * the Legal review card does (a signed `hubspot.fetch`-style call to the app's real card
 * endpoints), (b) move a deal to a stage (Legal Review fires the workflow action at the app),
 * (c) edit `lexicontract_status` as a HubSpot user would. Everything goes to the app over
 * HTTP, exactly as from HubSpot.
 */

function esc(text: unknown): string {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#33475b;background:#f5f8fa}
.banner{background:#ff7a59;color:#fff;padding:8px 24px;font-weight:600}
header{background:#2d3e50;color:#fff;padding:12px 24px;font-weight:600}
main{max-width:1180px;margin:0 auto;padding:24px;display:grid;grid-template-columns:440px 1fr;gap:20px}
main.single{display:block}
.panel{background:#fff;border:1px solid #cbd6e2;border-radius:6px;padding:16px 18px;margin-bottom:16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:0 0 10px;text-transform:uppercase;letter-spacing:.04em;color:#516f90}
table{width:100%;border-collapse:collapse;table-layout:fixed}td,th{padding:6px 8px;border-bottom:1px solid #eaf0f6;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{color:#516f90;font-weight:600;width:45%}
.tag{display:inline-block;padding:1px 8px;border-radius:3px;background:#eaf0f6;font-size:12px;font-weight:600}
button{font:inherit;background:#ff7a59;color:#fff;border:0;border-radius:3px;padding:7px 14px;cursor:pointer}
button.secondary{background:#fff;color:#33475b;border:1px solid #cbd6e2}
select{font:inherit;padding:5px}.muted{color:#7c98b6}.msg{padding:10px 14px;border-radius:4px;margin:0 24px}
.ok{background:#e5f8f6;border:1px solid #7fded2}.bad{background:#fde8e9;border:1px solid #f2545b}
a{color:#0091ae}`;

function layout(
  title: string,
  body: string,
  single = false,
  message?: { ok: boolean; text: string },
): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · HubSpot sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head><body>
<div class="banner">HubSpot SANDBOX: a local stand-in for HubSpot, not HubSpot. Nothing here reaches a real HubSpot account.</div>
<header><a href="/" style="color:#fff;text-decoration:none">Sandbox CRM · Deals</a></header>
${message ? `<p class="msg ${message.ok ? 'ok' : 'bad'}" role="status" data-testid="sandbox-message">${esc(message.text)}</p>` : ''}
<main class="${single ? 'single' : ''}">${body}</main></body></html>`;
}

const MESSAGES: Record<string, { ok: boolean; text: string }> = {
  sent: { ok: true, text: 'Sent to legal review through the Legal review card.' },
  send_failed: {
    ok: false,
    text: 'The Legal review card call failed; see the card panel for details.',
  },
  moved: { ok: true, text: 'Deal stage changed.' },
  moved_action: {
    ok: true,
    text: 'Deal moved to Legal Review: the workflow action "Send to LexiContract legal review" ran.',
  },
  status_set: {
    ok: true,
    text: 'lexicontract_status changed as a HubSpot user would (a webhook event goes to the app).',
  },
};

export interface DealPagesOptions {
  /** The app's public base URL, where the card endpoints live. */
  readonly appBaseUrl: string | undefined;
  /** The home page's "Start over" panel (`start-over.ts`). */
  readonly startOverForm?: string;
}

export async function dealPages(
  app: FastifyInstance,
  runtime: SandboxRuntime,
  control: SandboxControl,
  options: DealPagesOptions,
): Promise<void> {
  const state = runtime.state;

  app.get('/', async (_request, reply) => {
    const portals = [...state.portals.values()];
    const body = portals
      .map((portal) => {
        const rows = [...portal.deals.values()]
          .map(
            (
              deal,
            ) => `<tr><td><a href="/deals/${portal.portalId}/${esc(deal.id)}" data-testid="deal-link">${esc(deal.properties.get('dealname') ?? deal.id)}</a></td>
            <td>${esc(deal.properties.get('amount') ?? '')}</td><td>${esc(stageLabel(portal.portalId, deal.properties.get('dealstage')))}</td>
            <td><span class="tag">${esc(deal.properties.get('lexicontract_status') ?? '—')}</span></td></tr>`,
          )
          .join('');
        return `<div class="panel"><h2>${esc(portal.name)} · portal ${portal.portalId} ${portal.installed ? '<span class="tag">app installed</span>' : '<span class="tag">app not installed</span>'}</h2>
          <table><tr><th>Deal</th><th>Amount</th><th>Stage</th><th>LexiContract status</th></tr>${rows || '<tr><td colspan="4" class="muted">No deals.</td></tr>'}</table></div>`;
      })
      .join('');
    return reply
      .type('text/html')
      .send(layout('Deals', (body || '<p>No portals.</p>') + (options.startOverForm ?? ''), true));
  });

  function stageLabel(portalId: number, stageId: string | undefined): string {
    if (!stageId) return '—';
    for (const pipeline of control.pipelines(portalId)) {
      const stage = pipeline.stages.find((s) => s.id === stageId);
      if (stage) return stage.label;
    }
    return stageId;
  }

  const DealParams = z.object({ portalId: z.coerce.number().int(), dealId: z.string().max(40) });

  function cardUrl(path: string): string | undefined {
    return options.appBaseUrl
      ? `${options.appBaseUrl}/api/v1/integrations/hubspot${path}`
      : undefined;
  }

  app.get('/deals/:portalId/:dealId', async (request, reply) => {
    const { portalId, dealId } = DealParams.parse(request.params);
    const query = z.object({ m: z.string().optional() }).parse(request.query);
    const portal = state.portals.get(portalId);
    const deal = portal?.deals.get(dealId);
    if (!portal || !deal)
      return reply
        .status(404)
        .type('text/html')
        .send(layout('Not found', '<p>No such deal.</p>', true));
    const user = portal.users[0];

    const properties = [
      'dealname',
      'amount',
      'deal_currency_code',
      'closedate',
      'pipeline',
      'dealstage',
      'lexicontract_status',
      'lexicontract_contract_url',
    ]
      .map((name) => {
        const value = deal.properties.get(name);
        const shown =
          name === 'dealstage'
            ? esc(stageLabel(portalId, value))
            : name === 'lexicontract_contract_url' && value
              ? `<a href="${esc(value)}" target="_blank" rel="noreferrer">${esc(value)}</a>`
              : esc(value ?? '—');
        return `<tr><th>${esc(name)}</th><td data-testid="prop-${esc(name)}">${shown}</td></tr>`;
      })
      .join('');

    const attachments = parseAttachmentIdsOf(portal, deal)
      .map(
        (file) =>
          `<li>${esc(file.name)} <span class="muted">${esc(file.contentType)}, ${Math.ceil(file.size / 1024)} KB${file.access.includes('SENSITIVE') ? ', sensitive' : ''}</span></li>`,
      )
      .join('');

    let card =
      '<p class="muted">The app is not installed in this portal: connect HubSpot from LexiContract first.</p>';
    const url = cardUrl(`/card?dealId=${encodeURIComponent(dealId)}`);
    if (portal.installed && url && user) {
      try {
        const result = await control.signedCardFetch({
          portalId,
          userId: user.id,
          userEmail: user.email,
          method: 'GET',
          url,
        });
        card = renderCard(result.status, result.body);
      } catch (error) {
        card = `<p class="muted">The app did not answer the card call: ${esc(error instanceof Error ? error.message : 'unknown error')}</p>`;
      }
    }

    const stages = control
      .pipelines(portalId)
      .flatMap((p) => p.stages)
      .map(
        (s) =>
          `<option value="${esc(s.id)}" ${s.id === deal.properties.get('dealstage') ? 'selected' : ''}>${esc(s.label)}</option>`,
      )
      .join('');
    const statusOptions = (portal.properties.get('lexicontract_status')?.options ?? [])
      .map(
        (o) =>
          `<option value="${esc(o.value)}" ${o.value === deal.properties.get('lexicontract_status') ? 'selected' : ''}>${esc(o.label)}</option>`,
      )
      .join('');

    const left = `<div class="panel"><h1 data-testid="deal-name">${esc(deal.properties.get('dealname') ?? deal.id)}</h1><p class="muted">Deal ${esc(deal.id)} · portal ${portalId}</p>
      <table>${properties}</table></div>
      <div class="panel"><h2>Move stage</h2><form method="post" action="/deals/${portalId}/${esc(dealId)}/stage">
        <select name="stageId" data-testid="stage-select">${stages}</select> <button class="secondary" type="submit" data-testid="move-stage">Move</button></form>
        <p class="muted">Moving to "Legal Review" runs the workflow action "Send to LexiContract legal review".</p></div>
      <div class="panel"><h2>Edit lexicontract_status as a user</h2>${
        statusOptions
          ? `<form method="post" action="/deals/${portalId}/${esc(dealId)}/status"><select name="value" data-testid="status-select">${statusOptions}</select> <button class="secondary" type="submit" data-testid="set-status">Save</button></form>`
          : '<p class="muted">The property does not exist yet in this portal.</p>'
      }</div>`;
    const right = `<div class="panel" data-testid="legal-review-card"><h2>Legal review (LexiContract card)</h2>${card}
      <form method="post" action="/deals/${portalId}/${esc(dealId)}/send" style="margin-top:12px"><button type="submit" data-testid="send-to-legal">Send to Legal Review</button></form></div>
      <div class="panel"><h2>Attachments</h2>${attachments ? `<ul>${attachments}</ul>` : '<p class="muted">No attachments.</p>'}</div>`;
    return reply
      .type('text/html')
      .send(
        layout(
          deal.properties.get('dealname') ?? 'Deal',
          `<div>${left}</div><div>${right}</div>`,
          false,
          query.m ? MESSAGES[query.m] : undefined,
        ),
      );
  });

  app.post('/deals/:portalId/:dealId/send', async (request, reply) => {
    const { portalId, dealId } = DealParams.parse(request.params);
    const user = state.portals.get(portalId)?.users[0];
    const url = cardUrl('/card/send');
    if (!user || !url) return reply.redirect(`/deals/${portalId}/${dealId}?m=send_failed`);
    const result = await control.signedCardFetch({
      portalId,
      userId: user.id,
      userEmail: user.email,
      method: 'POST',
      url,
      body: { dealId },
    });
    return reply.redirect(
      `/deals/${portalId}/${dealId}?m=${result.status < 300 ? 'sent' : 'send_failed'}`,
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
    control.editDealAsUser(portalId, dealId, { lexicontract_status: value });
    return reply.redirect(`/deals/${portalId}/${dealId}?m=status_set`);
  });
}

/** Renders whatever the app's card endpoint answered, without assuming more than needed. */
function renderCard(status: number, body: unknown): string {
  if (status >= 400) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    return `<p class="msg bad" style="margin:0">Card error ${status}: ${esc(error?.message ?? error?.code ?? 'unknown')}</p>`;
  }
  const data = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const contracts = Array.isArray(data.contracts)
    ? (data.contracts as Record<string, unknown>[])
    : [];
  const list = contracts
    .map((c) => {
      const link =
        typeof c.url === 'string'
          ? c.url
          : typeof c.contractUrl === 'string'
            ? c.contractUrl
            : undefined;
      const title = typeof c.title === 'string' ? c.title : 'Contract';
      const statusValue =
        typeof c.status === 'string'
          ? c.status
          : typeof c.negotiationStatus === 'string'
            ? c.negotiationStatus
            : '';
      return `<li data-testid="card-contract">${link ? `<a href="${esc(link)}" target="_blank" rel="noreferrer">${esc(title)}</a>` : esc(title)} <span class="tag">${esc(statusValue)}</span></li>`;
    })
    .join('');
  const state =
    typeof data.state === 'string' ? `<p class="muted">Card state: ${esc(data.state)}</p>` : '';
  return `${state}${list ? `<ul>${list}</ul>` : '<p class="muted">No contracts for this deal yet.</p>'}`;
}
