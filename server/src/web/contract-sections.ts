import { z } from 'zod';

import type { ContractSyncState } from '../crm/port.ts';
import { html, type SafeHtml } from '../platform/http/html.ts';
import { standardField, type ContractMetadata } from '../core/contracts/metadata-fields.ts';

/**
 * Parts of the contract page read from the source record's JSON (the snapshot taken at
 * import and the import's summary). Both are adapter-defined, so they are parsed leniently:
 * what is recognised is shown readably, other plain fields by a humanised name, the rest
 * left out.
 */

const Labelled = z.object({ id: z.string(), label: z.string().nullable().optional() }).nullable();

const SnapshotSchema = z
  .object({
    name: z.string().nullable().optional(),
    amount: z.union([z.string(), z.number()]).nullable().optional(),
    currency: z.string().nullable().optional(),
    closeDate: z.string().nullable().optional(),
    pipeline: Labelled.optional(),
    stage: Labelled.optional(),
    ownerId: z.string().nullable().optional(),
    fetchedAt: z.string().optional(),
    /** How the send was routed: priority, review queue and the rule that chose them. */
    review: z
      .object({
        priority: z.string().optional(),
        queue: z.string().optional(),
        rule: z.object({ name: z.string() }).loose().nullable().optional(),
      })
      .loose()
      .optional()
      .catch(undefined),
  })
  .catchall(z.unknown());

/** Keys that identify the record (shown elsewhere on the page) or are rendered above. */
const NOT_SHOWN_AS_FIELDS = new Set([
  'source',
  'portalId',
  'dealId',
  'name',
  'amount',
  'currency',
  'closeDate',
  'pipeline',
  'stage',
  'ownerId',
  'fetchedAt',
  'review',
]);

/** `closeDate` → "Close date", `deal_currency_code` → "Deal currency code". */
export function humanLabel(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replaceAll('_', ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** "€12,000.00" when the currency is a valid ISO code, "12,000" otherwise. */
export function formatAmount(amount: string | number, currency: string | null | undefined): string {
  const value = typeof amount === 'number' ? amount : Number(amount);
  if (!Number.isFinite(value)) return String(amount);
  if (currency && /^[A-Z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(value);
    } catch {
      // An unknown code: fall through to the plain number.
    }
  }
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(value);
}

function labelled(value: z.infer<typeof Labelled> | undefined): string | null {
  if (!value) return null;
  return value.label ?? value.id;
}

function dateOnly(value: string | null | undefined): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString().slice(0, 10);
}

/** The record as it was at import, or null when there is nothing to show. */
export function recordSnapshotHtml(snapshot: unknown, recordNoun: string): SafeHtml | null {
  const parsed = SnapshotSchema.safeParse(snapshot);
  if (!parsed.success) return null;
  const s = parsed.data;
  const facts: [string, string][] = [];
  if (s.name) facts.push(['Name', s.name]);
  if (s.amount !== null && s.amount !== undefined && s.amount !== '')
    facts.push(['Amount', formatAmount(s.amount, s.currency)]);
  const pipeline = labelled(s.pipeline);
  if (pipeline) facts.push(['Pipeline', pipeline]);
  const stage = labelled(s.stage);
  if (stage) facts.push(['Stage', stage]);
  const close = dateOnly(s.closeDate);
  if (close) facts.push(['Close date', close]);
  if (s.ownerId) facts.push(['Owner', `HubSpot owner ${s.ownerId}`]);
  if (s.review?.priority) facts.push(['Review priority', s.review.priority]);
  if (s.review?.queue) facts.push(['Review queue', s.review.queue]);
  if (s.review?.queue !== undefined)
    facts.push(['Routed by', s.review.rule?.name ?? 'the default (no rule matched)']);
  for (const [key, value] of Object.entries(s)) {
    if (NOT_SHOWN_AS_FIELDS.has(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      facts.push([humanLabel(key), String(value)]);
  }
  if (facts.length === 0) return null;
  return html`<h2 class="mt-18">${humanLabel(recordNoun)} at import</h2>
    <dl data-testid="record-snapshot">
      ${facts.map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd>${v}</dd>`,
      )}
    </dl>
    ${s.fetchedAt ? html`<p class="muted">Read ${dateOnly(s.fetchedAt) ?? ''}.</p>` : null}`;
}

const SKIP_REASONS: Record<string, string> = {
  too_large: 'larger than the size limit',
  type_not_allowed: 'not an allowed document type',
  sensitive_or_unavailable: 'marked sensitive in HubSpot, or not accessible to the app',
  duplicate: 'already on this contract',
  download_refused: 'its download host is not allowed',
  filtered: 'left out by the name filter',
};

const SummarySchema = z.object({
  skipped: z
    .array(z.object({ name: z.string(), reason: z.string() }).catchall(z.unknown()))
    .default([]),
});

/** The attachments the last import left out, with why; null when none were. */
export function skippedAttachmentsHtml(importSummary: unknown): SafeHtml | null {
  const parsed = SummarySchema.safeParse(importSummary);
  if (!parsed.success) return null;
  const skipped = parsed.data.skipped.filter((s) => s.reason !== 'duplicate');
  if (skipped.length === 0) return null;
  return html`<div class="card" data-testid="skipped-attachments">
    <h2>Attachments not imported</h2>
    <table>
      <thead>
        <tr>
          <th>File</th>
          <th>Why</th>
        </tr>
      </thead>
      <tbody>
        ${skipped.map((s) => {
          // The import's own message when it has one (e.g. the refused download host).
          const why =
            typeof s.message === 'string'
              ? s.message
              : (SKIP_REASONS[s.reason] ?? humanLabel(s.reason));
          return html`<tr>
            <td>${s.name}</td>
            <td>${why}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}

/** While a write to the CRM is on its way, the page reloads itself until it settles. */
export function syncRefreshSeconds(sync: ContractSyncState | undefined): number | undefined {
  return sync?.state === 'pending' ? 5 : undefined;
}

/** The contract's metadata fields (as the last import mapped them); null when it has none. */
export function contractMetadataHtml(
  metadata: ContractMetadata,
  mappingVersion: number | null,
): SafeHtml | null {
  const entries = Object.entries(metadata);
  if (entries.length === 0) return null;
  return html`<div class="card" data-testid="contract-metadata">
    <h2>Contract fields</h2>
    <dl>
      ${entries.map(([key, value]) => {
        const label = standardField(key)?.label ?? humanLabel(key.replace(/^custom\./, ''));
        const shown =
          key === 'contractValue' && typeof value === 'number'
            ? formatAmount(value, typeof metadata.currency === 'string' ? metadata.currency : null)
            : String(value);
        return html`<dt>${label}</dt>
          <dd>${shown}</dd>`;
      })}
    </dl>
    ${mappingVersion !== null ? html`<p class="muted">Mapped with field mapping version ${mappingVersion}.</p>` : null}
  </div>`;
}
