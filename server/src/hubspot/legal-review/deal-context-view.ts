import { z } from 'zod';

import { html, type SafeHtml } from '../../platform/http/html.ts';

/**
 * The deal's companies, contacts and line items on the contract page, from the source
 * snapshot (parsed leniently: a snapshot taken before this existed shows nothing).
 */

const nullable = z.string().nullable().optional();

const ContextSchema = z.object({
  currency: nullable,
  companies: z
    .array(
      z.object({
        id: z.string(),
        name: nullable,
        domain: nullable,
        primaryInHubSpot: z.boolean().optional(),
      }),
    )
    .optional(),
  primaryCompany: z.object({ id: z.string(), source: z.string() }).nullable().optional(),
  primaryCompanyProblem: nullable,
  contacts: z
    .array(
      z.object({
        id: z.string(),
        name: nullable,
        email: nullable,
        jobTitle: nullable,
        labels: z.array(z.string()).default([]),
      }),
    )
    .optional(),
  lineItems: z
    .array(
      z.object({
        id: z.string(),
        name: nullable,
        quantity: nullable,
        unitPrice: nullable,
        unitDiscount: nullable,
        discountPercentage: nullable,
        term: nullable,
        amount: nullable,
      }),
    )
    .optional(),
  lineItemTotals: z
    .object({ gross: z.string(), discount: z.string(), net: z.string() })
    .nullable()
    .optional(),
  unread: z.array(z.object({ objects: z.string(), scope: z.string() })).default([]),
  mapping: z
    .object({
      version: z.number(),
      missing: z.array(z.object({ message: z.string(), required: z.boolean() })).default([]),
    })
    .nullable()
    .optional(),
});

const PRIMARY_SOURCE: Record<string, string> = {
  hubspot_primary: 'primary in HubSpot',
  admin_choice: 'chosen by an admin',
  only_company: 'the only company',
};

const OBJECT_NOUN: Record<string, string> = {
  companies: 'Companies',
  contacts: 'Contacts',
  line_items: 'Line items',
};

function money(value: string | null | undefined, currency: string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const n = Number(value);
  if (!Number.isFinite(n)) return value;
  if (currency && /^[A-Z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(n);
    } catch {
      // An unknown code: the plain number below.
    }
  }
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(n);
}

/** `P36M` → "36 months", `P1Y` → "1 year"; other values as they are. */
export function termText(term: string | null | undefined): string {
  if (!term) return '—';
  const match = /^P(\d{1,4})([MY])$/.exec(term);
  if (!match) return term;
  const n = Number(match[1]);
  const unit = match[2] === 'Y' ? 'year' : 'month';
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function discountText(
  item: {
    unitDiscount?: string | null | undefined;
    discountPercentage?: string | null | undefined;
  },
  currency: string | null | undefined,
): string {
  const parts: string[] = [];
  if (item.discountPercentage && Number(item.discountPercentage) !== 0)
    parts.push(`${item.discountPercentage}%`);
  if (item.unitDiscount && Number(item.unitDiscount) !== 0)
    parts.push(`${money(item.unitDiscount, currency)} per unit`);
  return parts.length > 0 ? parts.join(', ') : '—';
}

export function dealContextHtml(snapshot: unknown): SafeHtml | null {
  const parsed = ContextSchema.safeParse(snapshot);
  if (!parsed.success) return null;
  const s = parsed.data;
  if (s.companies === undefined && s.contacts === undefined && s.lineItems === undefined)
    return null;
  const companies = s.companies ?? [];
  const contacts = s.contacts ?? [];
  const lineItems = s.lineItems ?? [];
  const primary = companies.find((c) => c.id === s.primaryCompany?.id);
  return html`<div data-testid="deal-context">
    <h2 class="mt-18">Counterparty</h2>
    ${
      primary
        ? html`<p data-testid="primary-company">
            <strong>${primary.name ?? `Company ${primary.id}`}</strong>
            <span class="muted">
              (${PRIMARY_SOURCE[s.primaryCompany?.source ?? ''] ?? 'primary'}, HubSpot company
              ${primary.id})</span
            >
          </p>`
        : null
    }
    ${
      s.primaryCompanyProblem
        ? html`<p class="flash error" data-testid="primary-company-problem">
            ${s.primaryCompanyProblem}
          </p>`
        : null
    }
    ${
      companies.length > 1 || (companies.length === 1 && !primary)
        ? html`<table data-testid="deal-companies">
            <thead>
              <tr>
                <th>Company</th>
                <th>Domain</th>
                <th>HubSpot id</th>
                <th>Primary</th>
              </tr>
            </thead>
            <tbody>
              ${companies.map(
                (c) =>
                  html`<tr>
                    <td>${c.name ?? '—'}</td>
                    <td>${c.domain ?? '—'}</td>
                    <td>${c.id}</td>
                    <td>${c.id === primary?.id ? 'yes' : ''}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : null
    }
    ${
      contacts.length > 0
        ? html`<h3 class="mt-12">Contacts</h3>
            <table data-testid="deal-contacts">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Email</th>
                  <th>Job title</th>
                  <th>Role on the deal</th>
                </tr>
              </thead>
              <tbody>
                ${contacts.map(
                  (c) =>
                    html`<tr>
                      <td>${c.name ?? '—'}</td>
                      <td>${c.email ?? '—'}</td>
                      <td>${c.jobTitle ?? '—'}</td>
                      <td>${c.labels.length > 0 ? c.labels.join(', ') : '—'}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : null
    }
    ${
      lineItems.length > 0
        ? html`<h3 class="mt-12">Line items</h3>
            <table data-testid="deal-line-items">
              <thead>
                <tr>
                  <th>Item</th>
                  <th>Quantity</th>
                  <th>Unit price</th>
                  <th>Discount</th>
                  <th>Term</th>
                  <th>Net</th>
                </tr>
              </thead>
              <tbody>
                ${lineItems.map(
                  (i) =>
                    html`<tr>
                      <td>${i.name ?? '—'}</td>
                      <td>${i.quantity ?? '—'}</td>
                      <td>${money(i.unitPrice, s.currency)}</td>
                      <td>${discountText(i, s.currency)}</td>
                      <td>${termText(i.term)}</td>
                      <td>${money(i.amount, s.currency)}</td>
                    </tr>`,
                )}
              </tbody>
              ${
                s.lineItemTotals
                  ? html`<tfoot data-testid="line-item-totals">
                      <tr>
                        <th colspan="3">Total</th>
                        <td>${money(s.lineItemTotals.discount, s.currency)} off</td>
                        <td></td>
                        <td>${money(s.lineItemTotals.net, s.currency)}</td>
                      </tr>
                    </tfoot>`
                  : null
              }
            </table>`
        : null
    }
    ${s.unread.map(
      (u) =>
        html`<p class="muted" data-testid="context-unread">
          ${OBJECT_NOUN[u.objects] ?? u.objects} not read: the portal has not granted
          <code>${u.scope}</code> (reconnect HubSpot to grant it).
        </p>`,
    )}
    ${
      s.mapping && s.mapping.missing.length > 0
        ? html`<div data-testid="mapping-missing">
            <h3 class="mt-12">Mapped fields without a value (mapping v${s.mapping.version})</h3>
            <ul>
              ${s.mapping.missing.map(
                (m) =>
                  html`<li>
                    ${m.message}${m.required ? html` <strong>(required)</strong>` : null}
                  </li>`,
              )}
            </ul>
          </div>`
        : null
    }
  </div>`;
}
