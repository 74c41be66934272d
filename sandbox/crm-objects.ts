import type { Property, PropertyOption } from './wire.ts';
import { SandboxControlError } from './errors.ts';

/**
 * Companies, contacts and line items of a portal and their associations with deals: the
 * records, their property definitions and HubSpot's association types. Kept apart from
 * `state.ts` so the deal model stays readable; the maps live on `PortalRecord`.
 */

export type CrmObjectType = 'companies' | 'contacts' | 'line_items';

/** A property definition with whether apps may set its value. */
export interface PropertyRecord extends Property {
  readonly readOnlyValue: boolean;
}

/** The parts of a portal (`state.ts` `PortalRecord`) these objects live in. */
export interface PortalRecord {
  readonly deals: ReadonlyMap<string, unknown>;
  readonly companies: Map<string, CrmRecord>;
  readonly contacts: Map<string, CrmRecord>;
  readonly lineItems: Map<string, CrmRecord>;
  readonly dealAssociations: Map<string, DealAssociationRecord>;
  readonly associationLabels: Map<string, AssociationLabelRecord>;
  readonly objectProperties: Map<CrmObjectType, Map<string, PropertyRecord>>;
}
export const CRM_OBJECT_TYPES: readonly CrmObjectType[] = ['companies', 'contacts', 'line_items'];

/** HubSpot's object type ids and singular names accepted in paths. */
const OBJECT_TYPE_ALIASES: Record<string, CrmObjectType | 'deals'> = {
  companies: 'companies',
  company: 'companies',
  '0-2': 'companies',
  contacts: 'contacts',
  contact: 'contacts',
  '0-1': 'contacts',
  line_items: 'line_items',
  line_item: 'line_items',
  '0-8': 'line_items',
  deals: 'deals',
  deal: 'deals',
  '0-3': 'deals',
};

export function associatedType(name: string): CrmObjectType | 'deals' | undefined {
  return OBJECT_TYPE_ALIASES[name];
}

export interface CrmRecord {
  readonly id: string;
  readonly properties: Map<string, string>;
  readonly createdAt: number;
  updatedAt: number;
}

export interface AssociationTypeRecord {
  readonly category: 'HUBSPOT_DEFINED' | 'USER_DEFINED';
  readonly typeId: number;
  /** `null` for HubSpot's unlabeled type, as the API answers it. */
  readonly label: string | null;
}

/** One deal ↔ record link; the deal → record direction is stored, the other is derived. */
export interface DealAssociationRecord {
  readonly dealId: string;
  readonly toType: CrmObjectType;
  readonly toId: string;
  /** Types in the deal → record direction. */
  types: AssociationTypeRecord[];
}

/** A portal's own association label (USER_DEFINED), one type id per direction. */
export interface AssociationLabelRecord {
  readonly toType: CrmObjectType;
  readonly label: string;
  readonly typeId: number;
  readonly inverseTypeId: number;
}

/**
 * HubSpot-defined type ids (associations guide, "HubSpot defined association types"):
 * deal → company unlabeled 341, primary 5; company → deal 342, primary 6; deal → contact 3,
 * contact → deal 4; deal → line item 19, line item → deal 20.
 */
export const ASSOCIATION_TYPE_IDS = {
  dealToCompany: 341,
  dealToCompanyPrimary: 5,
  companyToDeal: 342,
  companyToDealPrimary: 6,
  dealToContact: 3,
  contactToDeal: 4,
  dealToLineItem: 19,
  lineItemToDeal: 20,
} as const;
export const PRIMARY_LABEL = 'Primary';

const UNLABELED: Record<CrmObjectType, { forward: number; inverse: number }> = {
  companies: {
    forward: ASSOCIATION_TYPE_IDS.dealToCompany,
    inverse: ASSOCIATION_TYPE_IDS.companyToDeal,
  },
  contacts: {
    forward: ASSOCIATION_TYPE_IDS.dealToContact,
    inverse: ASSOCIATION_TYPE_IDS.contactToDeal,
  },
  line_items: {
    forward: ASSOCIATION_TYPE_IDS.dealToLineItem,
    inverse: ASSOCIATION_TYPE_IDS.lineItemToDeal,
  },
};

/** The types of a link seen from the record's side (record → deal). */
export function inverseTypes(
  portal: PortalRecord,
  link: DealAssociationRecord,
): AssociationTypeRecord[] {
  return link.types.map((t) => {
    if (t.category === 'HUBSPOT_DEFINED') {
      if (t.typeId === ASSOCIATION_TYPE_IDS.dealToCompanyPrimary) {
        return { ...t, typeId: ASSOCIATION_TYPE_IDS.companyToDealPrimary };
      }
      return { ...t, typeId: UNLABELED[link.toType].inverse };
    }
    const label = [...portal.associationLabels.values()].find((l) => l.typeId === t.typeId);
    return { ...t, typeId: label?.inverseTypeId ?? t.typeId };
  });
}

/** What a read returns when no `properties` are asked for (HubSpot's defaults per object). */
export const DEFAULT_PROPERTIES: Record<CrmObjectType, readonly string[]> = {
  companies: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  line_items: [
    'amount',
    'createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
    'name',
    'price',
    'quantity',
  ],
};

const MODIFIED_PROPERTY: Record<CrmObjectType, string> = {
  companies: 'hs_lastmodifieddate',
  contacts: 'lastmodifieddate',
  line_items: 'hs_lastmodifieddate',
};

const READ_ONLY = new Set([
  'hs_object_id',
  'createdate',
  'hs_lastmodifieddate',
  'lastmodifieddate',
]);

const GROUP: Record<CrmObjectType, string> = {
  companies: 'companyinformation',
  contacts: 'contactinformation',
  line_items: 'lineiteminformation',
};

function property(
  objectType: CrmObjectType,
  name: string,
  label: string,
  type: string,
  fieldType: string,
  extra: Partial<PropertyRecord> = {},
): PropertyRecord {
  const at = new Date(0).toISOString();
  return {
    name,
    label,
    type,
    fieldType,
    groupName: GROUP[objectType],
    description: '',
    options: [],
    displayOrder: -1,
    hidden: false,
    formField: false,
    hubspotDefined: true,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: false,
    archived: false,
    createdAt: at,
    updatedAt: at,
    modificationMetadata: {
      archivable: false,
      readOnlyDefinition: true,
      readOnlyValue: READ_ONLY.has(name),
    },
    readOnlyValue: READ_ONLY.has(name),
    ...extra,
  };
}

function options(values: readonly [string, string][]): PropertyOption[] {
  return values.map(([value, label], i) => ({ label, value, displayOrder: i, hidden: false }));
}

const COUNTRIES = options([
  ['United States', 'United States'],
  ['United Kingdom', 'United Kingdom'],
  ['Germany', 'Germany'],
  ['France', 'France'],
  ['Canada', 'Canada'],
]);

function builtIn(objectType: CrmObjectType): PropertyRecord[] {
  const p = (
    name: string,
    label: string,
    type: string,
    fieldType: string,
    extra: Partial<PropertyRecord> = {},
  ) => property(objectType, name, label, type, fieldType, extra);
  const common = [
    p('createdate', 'Create Date', 'datetime', 'date'),
    p('hs_object_id', 'Record ID', 'number', 'number'),
  ];
  switch (objectType) {
    case 'companies':
      return [
        ...common,
        p('hs_lastmodifieddate', 'Last Modified Date', 'datetime', 'date'),
        p('name', 'Company name', 'string', 'text'),
        p('domain', 'Company Domain Name', 'string', 'text'),
        p('address', 'Street Address', 'string', 'text'),
        p('city', 'City', 'string', 'text'),
        p('state', 'State/Region', 'string', 'text'),
        p('zip', 'Postal Code', 'string', 'text'),
        p('country', 'Country/Region', 'string', 'text'),
        p('phone', 'Phone Number', 'string', 'phonenumber'),
        p('industry', 'Industry', 'enumeration', 'select', {
          options: options([
            ['COMPUTER_SOFTWARE', 'Computer Software'],
            ['FINANCIAL_SERVICES', 'Financial Services'],
            ['HOSPITAL_HEALTH_CARE', 'Hospital & Health Care'],
            ['RETAIL', 'Retail'],
          ]),
        }),
      ];
    case 'contacts':
      return [
        ...common,
        p('lastmodifieddate', 'Last Modified Date', 'datetime', 'date'),
        p('firstname', 'First Name', 'string', 'text'),
        p('lastname', 'Last Name', 'string', 'text'),
        p('email', 'Email', 'string', 'text'),
        p('jobtitle', 'Job Title', 'string', 'text'),
        p('phone', 'Phone Number', 'string', 'phonenumber'),
        p('company', 'Company Name', 'string', 'text'),
        p('country', 'Country/Region', 'enumeration', 'select', { options: COUNTRIES }),
      ];
    case 'line_items':
      return [
        ...common,
        p('hs_lastmodifieddate', 'Last Modified Date', 'datetime', 'date'),
        p('name', 'Name', 'string', 'text'),
        p('description', 'Description', 'string', 'textarea'),
        p('hs_sku', 'SKU', 'string', 'text'),
        p('quantity', 'Quantity', 'number', 'number'),
        p('price', 'Unit price', 'number', 'number'),
        p('amount', 'Net price', 'number', 'calculation_equation', { calculated: true }),
        p('discount', 'Unit discount', 'number', 'number'),
        p('hs_discount_percentage', 'Discount Percentage', 'number', 'number'),
        p('hs_recurring_billing_period', 'Term', 'string', 'text'),
        p('recurringbillingfrequency', 'Billing frequency', 'enumeration', 'select', {
          options: options([
            ['monthly', 'Monthly'],
            ['quarterly', 'Quarterly'],
            ['annually', 'Annually'],
          ]),
        }),
        p('hs_recurring_billing_start_date', 'Billing start date', 'date', 'date'),
      ];
  }
}

/** The fresh maps a new portal starts with. */
export function emptyCrmObjects(): Pick<
  PortalRecord,
  | 'companies'
  | 'contacts'
  | 'lineItems'
  | 'dealAssociations'
  | 'associationLabels'
  | 'objectProperties'
> {
  return {
    companies: new Map(),
    contacts: new Map(),
    lineItems: new Map(),
    dealAssociations: new Map(),
    associationLabels: new Map(),
    objectProperties: new Map(
      CRM_OBJECT_TYPES.map((t) => [t, new Map(builtIn(t).map((p) => [p.name, p]))]),
    ),
  };
}

export function recordsOf(portal: PortalRecord, type: CrmObjectType): Map<string, CrmRecord> {
  if (type === 'companies') return portal.companies;
  if (type === 'contacts') return portal.contacts;
  return portal.lineItems;
}

export function propertiesOf(
  portal: PortalRecord,
  type: CrmObjectType,
): Map<string, PropertyRecord> {
  const map = portal.objectProperties.get(type);
  if (!map) throw new SandboxControlError(`no properties for ${type}`, 500);
  return map;
}

/** Ids per object type are distinct ranges, like HubSpot's, so a mixed-up id never resolves. */
const ID_BASE: Record<CrmObjectType, number> = {
  companies: 30_000_000_000,
  contacts: 20_000_000_000,
  line_items: 70_000_000_000,
};

function problem(
  type: CrmObjectType,
  portal: PortalRecord,
  values: Record<string, string>,
): string[] {
  const known = propertiesOf(portal, type);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const definition = known.get(name);
    if (!definition || definition.archived === true) {
      problems.push(`Property "${name}" does not exist`);
    } else if (definition.readOnlyValue || definition.calculated === true) {
      problems.push(`"${name}" is a read only property; its value cannot be set.`);
    } else if (value !== '' && definition.type === 'number' && !/^-?\d+(\.\d+)?$/.test(value)) {
      problems.push(`${JSON.stringify(value)} is not a valid number`);
    } else if (
      value !== '' &&
      definition.type === 'enumeration' &&
      definition.options.length > 0 &&
      !definition.options.some((o) => o.value === value)
    ) {
      problems.push(`${JSON.stringify(value)} was not one of the allowed options`);
    }
  }
  return problems;
}

/** HubSpot's calculated net price of a line item: quantity × (price − unit discount) − %. */
function lineItemAmount(values: Map<string, string>): string | undefined {
  const quantity = Number(values.get('quantity') ?? '1');
  const price = Number(values.get('price') ?? 'NaN');
  if (!Number.isFinite(quantity) || !Number.isFinite(price)) return undefined;
  const unitDiscount = Number(values.get('discount') ?? '0') || 0;
  const percentage = Number(values.get('hs_discount_percentage') ?? '0') || 0;
  const gross = quantity * (price - unitDiscount);
  return String(Math.round(gross * (1 - percentage / 100) * 100) / 100);
}

export function createCrmRecord(
  portal: PortalRecord,
  type: CrmObjectType,
  values: Record<string, string>,
  now: number,
): CrmRecord {
  const problems = problem(type, portal, values);
  if (problems.length > 0) throw new SandboxControlError(problems.join('; '), 400);
  const records = recordsOf(portal, type);
  const id = String(ID_BASE[type] + records.size + 1);
  const at = new Date(now).toISOString();
  const record: CrmRecord = {
    id,
    properties: new Map(Object.entries(values).filter(([, v]) => v !== '')),
    createdAt: now,
    updatedAt: now,
  };
  record.properties.set('createdate', at);
  record.properties.set(MODIFIED_PROPERTY[type], at);
  record.properties.set('hs_object_id', id);
  if (type === 'line_items') {
    const amount = lineItemAmount(record.properties);
    if (amount !== undefined) record.properties.set('amount', amount);
  }
  records.set(id, record);
  return record;
}

function linkKey(dealId: string, toType: CrmObjectType, toId: string): string {
  return `${dealId}/${toType}/${toId}`;
}

function labelType(
  portal: PortalRecord,
  toType: CrmObjectType,
  label: string,
): AssociationTypeRecord {
  const key = `${toType}/${label}`;
  let found = portal.associationLabels.get(key);
  if (!found) {
    // Portal-defined type ids start above HubSpot's own, one pair per label.
    const typeId = 1000 + portal.associationLabels.size * 2 + 1;
    found = { toType, label, typeId, inverseTypeId: typeId + 1 };
    portal.associationLabels.set(key, found);
  }
  return { category: 'USER_DEFINED', typeId: found.typeId, label };
}

/** Links a deal to a company, contact or line item (a primary company demotes the old one). */
export function associateWithDeal(
  portal: PortalRecord,
  dealId: string,
  toType: CrmObjectType,
  toId: string,
  opts: { primary?: boolean; labels?: readonly string[] } = {},
): DealAssociationRecord {
  if (!portal.deals.has(dealId)) throw new SandboxControlError(`unknown deal ${dealId}`);
  if (!recordsOf(portal, toType).has(toId)) {
    throw new SandboxControlError(`unknown ${toType} record ${toId}`);
  }
  if (opts.primary === true && toType !== 'companies') {
    throw new SandboxControlError('only a company can be the primary association', 400);
  }
  const types: AssociationTypeRecord[] = [
    { category: 'HUBSPOT_DEFINED', typeId: UNLABELED[toType].forward, label: null },
  ];
  if (opts.primary === true) {
    for (const link of portal.dealAssociations.values()) {
      if (link.dealId === dealId && link.toType === 'companies') {
        link.types = link.types.filter(
          (t) => t.typeId !== ASSOCIATION_TYPE_IDS.dealToCompanyPrimary,
        );
      }
    }
    types.push({
      category: 'HUBSPOT_DEFINED',
      typeId: ASSOCIATION_TYPE_IDS.dealToCompanyPrimary,
      label: PRIMARY_LABEL,
    });
  }
  for (const label of opts.labels ?? []) types.push(labelType(portal, toType, label));
  const link: DealAssociationRecord = { dealId, toType, toId, types };
  portal.dealAssociations.set(linkKey(dealId, toType, toId), link);
  return link;
}

export function dealLinks(
  portal: PortalRecord,
  dealId: string,
  toType: CrmObjectType,
): DealAssociationRecord[] {
  return [...portal.dealAssociations.values()].filter(
    (l) => l.dealId === dealId && l.toType === toType,
  );
}

export function recordLinks(
  portal: PortalRecord,
  fromType: CrmObjectType,
  fromId: string,
): DealAssociationRecord[] {
  return [...portal.dealAssociations.values()].filter(
    (l) => l.toType === fromType && l.toId === fromId,
  );
}
