import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

import { auditFacets, listAuditEntries } from '../core/audit/audit-log.ts';
import { sessionOf } from '../core/auth/session-plugin.ts';
import { html, type SafeHtml } from '../platform/http/html.ts';
import { parseInput } from '../platform/http/validation.ts';
import { describeActors } from './actors.ts';
import { utc } from './format.ts';
import { page } from './layout.ts';
import { requireSignedIn } from './sign-in-gate.ts';

const PAGE_SIZE = 50;

const FilterSchema = z.object({
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  contract: z.union([z.uuid(), z.literal('')]).optional(),
  before: z.coerce.number().int().positive().optional(),
});

/** `dealId` → "deal id", `created_organization` → "created organization". */
function fieldLabel(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replaceAll('_', ' ')
    .toLowerCase();
}

function fieldValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object'))
    return value.map(String).join(', ');
  return JSON.stringify(value);
}

function detailsHtml(details: unknown): SafeHtml | null {
  if (!details || typeof details !== 'object') return null;
  const entries = Object.entries(details as Record<string, unknown>);
  if (entries.length === 0) return null;
  return html`<dl class="fields">
    ${entries.map(
      ([k, v]) =>
        html`<dt>${fieldLabel(k)}</dt>
          <dd>${fieldValue(v)}</dd>`,
    )}
  </dl>`;
}

function badge(outcome: string): SafeHtml {
  const kind = outcome === 'success' ? 'ok' : outcome === 'refused' ? 'warn' : 'bad';
  return html`<span class="badge ${kind}">${outcome}</span>`;
}

/** The audit log: filters by actor, action and contract; 50 entries a page, newest first. */
export const auditLogPage: FastifyPluginAsync = async (app) => {
  app.get('/audit-log', { preHandler: requireSignedIn }, async (request, reply) => {
    const session = sessionOf(request);
    const filter = parseInput(FilterSchema, request.query, 'audit log filters');
    const [rows, facets] = await Promise.all([
      listAuditEntries(app.db, session.organizationId, {
        ...(filter.actor ? { actor: filter.actor } : {}),
        ...(filter.action ? { action: filter.action } : {}),
        ...(filter.contract ? { contractId: filter.contract } : {}),
        ...(filter.before ? { beforeId: filter.before } : {}),
        limit: PAGE_SIZE,
      }),
      auditFacets(app.db, session.organizationId),
    ]);
    const shown = rows.slice(0, PAGE_SIZE);
    const actors = await describeActors(app.db, session.organizationId, [
      ...facets.actors,
      ...shown.map((r) => r.actor),
    ]);
    const query = (before: number | null) => {
      const params = new URLSearchParams();
      if (filter.actor) params.set('actor', filter.actor);
      if (filter.action) params.set('action', filter.action);
      if (filter.contract) params.set('contract', filter.contract);
      if (before !== null) params.set('before', String(before));
      const text = params.toString();
      return text ? `/audit-log?${text}` : '/audit-log';
    };
    const older = rows.length > PAGE_SIZE ? (shown.at(-1)?.id ?? null) : null;
    const targetHtml = (target: string | null): SafeHtml | string => {
      const contract = target?.startsWith('contract:') ? target.slice('contract:'.length) : null;
      if (contract) return html`<a href="/contracts/${contract}">contract</a>`;
      return target ?? '';
    };
    const body = html` <h1>Audit log</h1>
      <p class="sub">Everything done in this organization, newest first. Times are UTC.</p>
      <form method="get" action="/audit-log" class="row mb-16" data-testid="audit-filters">
        <select name="actor">
          <option value="">Anyone</option>
          ${facets.actors.map((a) => html`<option value="${a}" ${filter.actor === a ? html`selected` : null}>${actors.get(a) ?? a}</option>`)}
        </select>
        <select name="action">
          <option value="">Any action</option>
          ${facets.actions.map((a) => html`<option value="${a}" ${filter.action === a ? html`selected` : null}>${a}</option>`)}
        </select>
        <input
          type="text"
          name="contract"
          value="${filter.contract ?? ''}"
          placeholder="Contract id"
          class="grow"
        />
        <button type="submit" class="secondary">Filter</button>
      </form>
      <table class="audit">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>What</th>
            <th>Target</th>
            <th>Outcome</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          ${
            shown.length === 0
              ? html`<tr>
                  <td colspan="6" class="muted">Nothing here.</td>
                </tr>`
              : null
          }
          ${shown.map(
            (r) =>
              html`<tr data-testid="audit-row">
                <td>${utc(r.createdAt, true)}</td>
                <td>${actors.get(r.actor) ?? r.actor}</td>
                <td><code>${r.action}</code></td>
                <td>${targetHtml(r.target)}</td>
                <td>${badge(r.outcome)}</td>
                <td>${detailsHtml(r.details)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <p class="row mt-12">
        ${filter.before ? html`<a class="button secondary" href="${query(null)}">Newest</a>` : null}
        ${older !== null ? html`<a class="button secondary" href="${query(older)}" data-testid="audit-older">Older entries</a>` : null}
      </p>`;
    return reply
      .type('text/html')
      .send(page({ title: 'Audit log', session, active: '/audit-log', body }));
  });
};
