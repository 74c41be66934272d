import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest, type PortalClientOptions } from '../client/portal-client.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import {
  AssociationsBatchResponseSchema,
  BATCH_INPUT_LIMIT,
  CrmObjectsBatchSchema,
  DEAL_TO_PRIMARY_COMPANY_TYPE_ID,
  type AssociationsBatchInput,
  type ContextRecord,
  type LabelledAssociationType,
} from '../wire/index.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * The deal's context at import: its companies (with the one primary), its contacts as
 * counterparties and its line items with totals. Associations come from one batch read per
 * object type, the records from one batch read per 100. Each part needs its object's read
 * scope; a portal that has not granted it (companies and line items are optional scopes) gets
 * the part marked unread, and the import goes on with the deal and its files.
 */

export type ContextObject = 'companies' | 'contacts' | 'line_items';

/** The read scope of each part (`crm.objects.contacts.read` is a required scope). */
export const CONTEXT_READ_SCOPES = {
  companies: 'crm.objects.companies.read',
  contacts: 'crm.objects.contacts.read',
  line_items: 'crm.objects.line_items.read',
} as const satisfies Record<ContextObject, string>;

export const COMPANY_PROPERTIES = ['name', 'domain', 'city', 'country'] as const;
export const CONTACT_PROPERTIES = ['firstname', 'lastname', 'email', 'jobtitle'] as const;
export const LINE_ITEM_PROPERTIES = [
  'name',
  'quantity',
  'price',
  'amount',
  'discount',
  'hs_discount_percentage',
  'hs_recurring_billing_period',
  'recurringbillingfrequency',
] as const;

/** Property values as read; a key absent means HubSpot does not know the property. */
export type PropertyValues = Readonly<Record<string, string | null>>;

export interface CompanySnapshot {
  readonly id: string;
  readonly name: string | null;
  readonly domain: string | null;
  /** HubSpot's primary association (deal → company type 5). */
  readonly primaryInHubSpot: boolean;
  readonly properties: PropertyValues;
}

export interface ContactSnapshot {
  readonly id: string;
  readonly name: string | null;
  readonly email: string | null;
  readonly jobTitle: string | null;
  /** The deal ↔ contact association labels ("Signer", "Decision maker"). */
  readonly labels: readonly string[];
  readonly properties: PropertyValues;
}

export interface LineItemSnapshot {
  readonly id: string;
  readonly name: string | null;
  readonly quantity: string | null;
  readonly unitPrice: string | null;
  /** Discount per unit, in the deal's currency. */
  readonly unitDiscount: string | null;
  readonly discountPercentage: string | null;
  /** ISO 8601 period (`P36M`) of a recurring line item. */
  readonly term: string | null;
  readonly billingFrequency: string | null;
  /** Net price (HubSpot's `amount`). */
  readonly amount: string | null;
}

export interface LineItemTotals {
  /** Σ quantity × unit price. */
  readonly gross: string;
  readonly discount: string;
  /** Σ net price. */
  readonly net: string;
}

export type PrimaryCompanySource = 'hubspot_primary' | 'admin_choice' | 'only_company';

export interface DealContext {
  readonly companies: readonly CompanySnapshot[];
  readonly primaryCompany: { readonly id: string; readonly source: PrimaryCompanySource } | null;
  /** Why no primary company was taken (two or more, none marked primary): never a guess. */
  readonly primaryCompanyProblem: string | null;
  readonly contacts: readonly ContactSnapshot[];
  readonly lineItems: readonly LineItemSnapshot[];
  readonly lineItemTotals: LineItemTotals | null;
  /** Parts not read because the portal has not granted their scope. */
  readonly unread: ReadonlyArray<{ readonly objects: ContextObject; readonly scope: string }>;
}

interface Linked {
  readonly id: string;
  readonly types: readonly LabelledAssociationType[];
}

const isMissingScope = (error: unknown) =>
  error instanceof HubSpotApiError && (error.status === 403 || error.category === 'MISSING_SCOPES');

/** The deal's associated records of one type, following each input's `paging.next.after`. */
async function linkedRecords(
  deps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
  toType: ContextObject,
  options: PortalClientOptions,
): Promise<Linked[]> {
  const found = new Map<string, Linked>();
  let after: string | undefined;
  // A bound on pages keeps a misbehaving cursor from looping forever.
  for (let page = 0; page < 50; page += 1) {
    const json: AssociationsBatchInput = {
      inputs: [{ id: dealId, ...(after !== undefined ? { after } : {}) }],
    };
    const { body } = await portalRequest(
      deps,
      portalId,
      { method: 'POST', path: hubspotPaths.dealAssociationsBatchRead(toType), json },
      AssociationsBatchResponseSchema,
      options,
    );
    // A deal without such associations comes back as a 207 error entry, not a result.
    const result = body.results.find((r) => r.from.id === dealId);
    for (const to of result?.to ?? []) {
      found.set(to.toObjectId, { id: to.toObjectId, types: to.associationTypes });
    }
    after = result?.paging?.next?.after;
    if (!after) break;
  }
  return [...found.values()];
}

/** Batch reads of up to 100 records, in the order of `ids`; records gone are left out. */
async function readRecords(
  deps: HubSpotTokenDeps,
  portalId: string,
  type: ContextObject,
  ids: readonly string[],
  properties: readonly string[],
  options: PortalClientOptions,
): Promise<Map<string, ContextRecord>> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH_INPUT_LIMIT) {
    batches.push(ids.slice(i, i + BATCH_INPUT_LIMIT));
  }
  const bodies = await Promise.all(
    batches.map(async (batch) => {
      const { body } = await portalRequest(
        deps,
        portalId,
        {
          method: 'POST',
          path: hubspotPaths.objectsBatchRead(type),
          json: {
            inputs: batch.map((id) => ({ id })),
            properties: [...new Set(properties)],
            propertiesWithHistory: [],
          },
        },
        CrmObjectsBatchSchema,
        options,
      );
      return body.results;
    }),
  );
  return new Map(bodies.flat().map((r) => [r.id, r]));
}

function value(record: ContextRecord | undefined, name: string): string | null {
  const v = record?.properties[name];
  return v === undefined || v === null || v === '' ? null : v;
}

function picked(record: ContextRecord | undefined, names: readonly string[]): PropertyValues {
  const out: Record<string, string | null> = {};
  for (const name of names) {
    // Absent stays absent: it tells a deleted property from an empty one.
    if (record && name in record.properties) out[name] = value(record, name);
  }
  return out;
}

const cents = (v: string | null): number => {
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) ? Math.round(n * 100) : 0;
};
const money = (c: number): string => (c / 100).toFixed(2);

export function lineItemTotals(items: readonly LineItemSnapshot[]): LineItemTotals | null {
  if (items.length === 0) return null;
  let gross = 0;
  let net = 0;
  for (const item of items) {
    const quantity = item.quantity === null ? 1 : Number(item.quantity);
    const lineGross = Math.round(
      (Number.isFinite(quantity) ? quantity : 0) * cents(item.unitPrice),
    );
    gross += lineGross;
    net += item.amount !== null ? cents(item.amount) : lineGross;
  }
  return { gross: money(gross), discount: money(gross - net), net: money(net) };
}

/** Primary by HubSpot's label, else the admin's choice, else the only company; never a guess. */
export function choosePrimaryCompany(
  companies: readonly CompanySnapshot[],
  adminChoice: string | undefined,
): Pick<DealContext, 'primaryCompany' | 'primaryCompanyProblem'> {
  const marked = companies.filter((c) => c.primaryInHubSpot);
  if (marked.length === 1 && marked[0]) {
    return {
      primaryCompany: { id: marked[0].id, source: 'hubspot_primary' },
      primaryCompanyProblem: null,
    };
  }
  if (adminChoice !== undefined && companies.some((c) => c.id === adminChoice)) {
    return {
      primaryCompany: { id: adminChoice, source: 'admin_choice' },
      primaryCompanyProblem: null,
    };
  }
  if (companies.length === 1 && companies[0]) {
    return {
      primaryCompany: { id: companies[0].id, source: 'only_company' },
      primaryCompanyProblem: null,
    };
  }
  if (companies.length === 0) return { primaryCompany: null, primaryCompanyProblem: null };
  return {
    primaryCompany: null,
    primaryCompanyProblem: `The deal has ${companies.length} companies and none is marked primary in HubSpot, so none was taken as the counterparty. Mark one as primary on the deal in HubSpot, or choose one in the LexiContract settings, and send again.`,
  };
}

export interface DealContextOptions extends PortalClientOptions {
  readonly grantedScopes: readonly string[];
  /** Extra properties to read (the field mapping's). */
  readonly companyProperties?: readonly string[];
  readonly contactProperties?: readonly string[];
  /** The admin's choice of primary company for this deal, if any. */
  readonly primaryCompanyChoice?: string;
}

/** Reads the deal's companies, contacts and line items (the parts the portal allows). */
export async function fetchDealContext(
  deps: HubSpotTokenDeps,
  portalId: string,
  dealId: string,
  options: DealContextOptions,
): Promise<DealContext> {
  const unread: Array<{ objects: ContextObject; scope: string }> = [];
  const granted = (type: ContextObject) =>
    options.grantedScopes.includes(CONTEXT_READ_SCOPES[type]);

  const part = async <T>(type: ContextObject, read: () => Promise<T[]>): Promise<T[]> => {
    if (!granted(type)) {
      unread.push({ objects: type, scope: CONTEXT_READ_SCOPES[type] });
      return [];
    }
    try {
      return await read();
    } catch (error) {
      // Granted once but refused now (a scope taken back): the same as not granted.
      if (!isMissingScope(error)) throw error;
      unread.push({ objects: type, scope: CONTEXT_READ_SCOPES[type] });
      return [];
    }
  };

  const companyProperties = [...COMPANY_PROPERTIES, ...(options.companyProperties ?? [])];
  const contactProperties = [...CONTACT_PROPERTIES, ...(options.contactProperties ?? [])];

  const [companies, contacts, lineItems] = await Promise.all([
    part('companies', async (): Promise<CompanySnapshot[]> => {
      const links = await linkedRecords(deps, portalId, dealId, 'companies', options);
      const records = await readRecords(
        deps,
        portalId,
        'companies',
        links.map((l) => l.id),
        companyProperties,
        options,
      );
      return links.flatMap((link) => {
        const record = records.get(link.id);
        if (!record) return [];
        return [
          {
            id: link.id,
            name: value(record, 'name'),
            domain: value(record, 'domain'),
            primaryInHubSpot: link.types.some(
              (t) =>
                t.category === 'HUBSPOT_DEFINED' && t.typeId === DEAL_TO_PRIMARY_COMPANY_TYPE_ID,
            ),
            properties: picked(record, companyProperties),
          },
        ];
      });
    }),
    part('contacts', async (): Promise<ContactSnapshot[]> => {
      const links = await linkedRecords(deps, portalId, dealId, 'contacts', options);
      const records = await readRecords(
        deps,
        portalId,
        'contacts',
        links.map((l) => l.id),
        contactProperties,
        options,
      );
      return links.flatMap((link) => {
        const record = records.get(link.id);
        if (!record) return [];
        const name = [value(record, 'firstname'), value(record, 'lastname')]
          .filter((v) => v !== null)
          .join(' ');
        return [
          {
            id: link.id,
            name: name === '' ? null : name,
            email: value(record, 'email'),
            jobTitle: value(record, 'jobtitle'),
            labels: [
              ...new Set(
                link.types.flatMap((t) =>
                  t.label !== null && t.label !== undefined ? [t.label] : [],
                ),
              ),
            ],
            properties: picked(record, contactProperties),
          },
        ];
      });
    }),
    part('line_items', async (): Promise<LineItemSnapshot[]> => {
      const links = await linkedRecords(deps, portalId, dealId, 'line_items', options);
      const records = await readRecords(
        deps,
        portalId,
        'line_items',
        links.map((l) => l.id),
        LINE_ITEM_PROPERTIES,
        options,
      );
      return links.flatMap((link) => {
        const record = records.get(link.id);
        if (!record) return [];
        return [
          {
            id: link.id,
            name: value(record, 'name'),
            quantity: value(record, 'quantity'),
            unitPrice: value(record, 'price'),
            unitDiscount: value(record, 'discount'),
            discountPercentage: value(record, 'hs_discount_percentage'),
            term: value(record, 'hs_recurring_billing_period'),
            billingFrequency: value(record, 'recurringbillingfrequency'),
            amount: value(record, 'amount'),
          },
        ];
      });
    }),
  ]);

  return {
    companies,
    ...choosePrimaryCompany(companies, options.primaryCompanyChoice),
    contacts,
    lineItems,
    lineItemTotals: lineItemTotals(lineItems),
    unread,
  };
}
