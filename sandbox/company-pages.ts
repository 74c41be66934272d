import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { CardHost } from './card-host/card-host.ts';
import { recordLinks } from './crm-objects.ts';
import {
  PortalIdParam,
  companyName,
  esc,
  isPrimaryCompany,
  layout,
  notFound,
  sendPage,
} from './deal-pages.ts';
import type { SandboxRuntime } from './runtime.ts';

/**
 * The page standing in for HubSpot's Company record: the company's properties, its deals, and
 * the app's REAL company cards (hubspot-app's `objectTypes: ["companies"]` extensions, rendered
 * by the card host with the company as `context.crm`, object type 0-2), laid out like the deal
 * page (sandbox/deal-pages.ts).
 */

/** The company properties the record shows, in this order. */
const SHOWN_PROPERTIES = ['name', 'domain', 'city', 'country'] as const;

export async function companyPages(
  app: FastifyInstance,
  runtime: SandboxRuntime,
  host: CardHost,
): Promise<void> {
  const state = runtime.state;
  const CompanyParams = z.object({ portalId: PortalIdParam, companyId: z.string().max(40) });

  app.get('/companies/:portalId/:companyId', async (request, reply) => {
    const params = CompanyParams.safeParse(request.params);
    if (!params.success) return notFound(reply, 'company');
    const { portalId, companyId } = params.data;
    const portal = state.portals.get(portalId);
    const company = portal?.companies.get(companyId);
    if (!portal || !company) return notFound(reply, 'company');
    const user = portal.users[0];

    const labels = portal.objectProperties.get('companies');
    const properties = `<table>${SHOWN_PROPERTIES.map(
      (name) =>
        `<tr><th>${esc(labels?.get(name)?.label ?? name)}</th><td data-testid="prop-${esc(name)}">${esc(company.properties.get(name) ?? '—')}</td></tr>`,
    ).join('')}</table>`;

    const deals = recordLinks(portal, 'companies', companyId).flatMap((link) => {
      const deal = portal.deals.get(link.dealId);
      if (!deal) return [];
      const primary = isPrimaryCompany(link) ? ' <span class="tag">Primary</span>' : '';
      return [
        `<li><a href="/deals/${portalId}/${encodeURIComponent(deal.id)}" data-testid="company-deal-link">${esc(deal.properties.get('dealname') ?? deal.id)}</a>${primary}</li>`,
      ];
    });

    let cards = { tab: '', sidebar: '', scripts: '' };
    if (!portal.installed) {
      cards.tab =
        '<div class="panel" data-testid="app-not-installed"><h2>LexiContract</h2><p class="muted">The app is not installed in this account, so HubSpot shows none of its cards. Connect HubSpot from LexiContract first.</p></div>';
    } else if (user) {
      cards = await host.cardPanels({
        portalId,
        objectType: 'companies',
        objectId: companyId,
        user: { id: user.id, email: user.email, name: user.email },
      });
    }

    const left = `<div class="panel"><h1 data-testid="company-name">${esc(companyName(company))}</h1><p class="muted">Company ${esc(company.id)} · ${esc(portal.name)}</p>
      <div data-testid="company-properties">${properties}</div></div>
      <div class="panel" data-testid="company-deals"><h2>Deals</h2>${
        deals.length > 0 ? `<ul>${deals.join('')}</ul>` : '<p class="muted">No deals.</p>'
      }</div>`;
    const middle =
      cards.tab || '<div class="panel"><p class="muted">The app has no company cards.</p></div>';
    const body = cards.sidebar
      ? `<div>${left}</div><div>${middle}</div><div>${cards.sidebar}</div>`
      : `<div>${left}</div><div>${middle}</div>`;
    return sendPage(
      reply,
      layout(companyName(company), body, {
        columns: cards.sidebar ? 'three' : 'two',
        scripts: cards.scripts,
      }),
    );
  });
}
