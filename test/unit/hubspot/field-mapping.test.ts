import { describe, expect, it } from 'vitest';

import {
  FieldMappingInputSchema,
  applyMapping,
  brokenMappedFields,
  mappingContact,
  requiredFieldsMessage,
  validateMapping,
  type PropertyCatalog,
} from '../../../server/src/hubspot/mapping/field-mapping.ts';
import {
  choosePrimaryCompany,
  lineItemTotals,
} from '../../../server/src/hubspot/legal-review/deal-context.ts';
import {
  dealContextHtml,
  termText,
} from '../../../server/src/hubspot/legal-review/deal-context-view.ts';

const CATALOG: PropertyCatalog = {
  deal: [
    { name: 'amount', label: 'Amount', type: 'number', options: [] },
    { name: 'closedate', label: 'Close Date', type: 'datetime', options: [] },
    { name: 'dealname', label: 'Deal Name', type: 'string', options: [] },
    {
      name: 'region',
      label: 'Region',
      type: 'enumeration',
      options: [
        { value: 'emea', label: 'EMEA' },
        { value: 'na', label: 'North America' },
      ],
    },
  ],
  company: [{ name: 'legal_entity_name', label: 'Legal entity name', type: 'string', options: [] }],
  contact: null,
};

function valid(fields: unknown[], contactLabel: string | null = null) {
  const result = validateMapping(FieldMappingInputSchema.parse({ fields, contactLabel }), CATALOG);
  if (!result.ok) throw new Error(result.problem.code);
  return result.mapping;
}

describe('validateMapping', () => {
  it('completes a valid mapping with labels, types and every option of an enumeration', () => {
    const mapping = valid([
      {
        field: 'region',
        source: { object: 'deal', property: 'region' },
        options: { na: 'Americas' },
      },
    ]);
    expect(mapping.fields[0]).toEqual({
      field: 'region',
      label: 'Region',
      kind: 'text',
      source: { object: 'deal', property: 'region' },
      propertyLabel: 'Region',
      propertyType: 'enumeration',
      required: false,
      options: { emea: 'EMEA', na: 'Americas' },
    });
  });

  it.each([
    [
      { field: 'termStart', source: { object: 'deal', property: 'dealname' } },
      'mapping_wrong_type',
    ],
    [
      { field: 'termStart', source: { object: 'deal', property: 'gone' } },
      'mapping_unknown_property',
    ],
    [
      { field: 'custom.x', source: { object: 'deal', property: 'dealname' } },
      'mapping_custom_field_incomplete',
    ],
    [
      {
        field: 'custom.x',
        label: 'X',
        kind: 'text',
        source: { object: 'contact', property: 'email' },
      },
      'mapping_objects_not_readable',
    ],
  ])('refuses %j with %s', (field, code) => {
    const result = validateMapping(
      FieldMappingInputSchema.parse({ fields: [field], contactLabel: null }),
      CATALOG,
    );
    expect(result.ok ? null : result.problem.code).toBe(code);
  });

  it('refuses a field mapped twice, naming the second', () => {
    const entry = { field: 'contractValue', source: { object: 'deal', property: 'amount' } };
    const result = validateMapping(
      FieldMappingInputSchema.parse({ fields: [entry, entry], contactLabel: null }),
      CATALOG,
    );
    expect(result.ok ? null : result.problem).toMatchObject({
      code: 'mapping_duplicate_field',
      path: 'fields.1.field',
    });
  });

  it('rejects unknown keys and bad custom keys at the schema', () => {
    expect(
      FieldMappingInputSchema.safeParse({
        fields: [{ field: 'custom.Bad Key', source: { object: 'deal', property: 'x' } }],
        contactLabel: null,
      }).success,
    ).toBe(false);
    expect(
      FieldMappingInputSchema.safeParse({ fields: [], contactLabel: null, extra: 1 }).success,
    ).toBe(false);
  });
});

describe('applyMapping', () => {
  const mapping = valid([
    {
      field: 'counterpartyLegalName',
      source: { object: 'company', property: 'legal_entity_name' },
      required: true,
    },
    { field: 'contractValue', source: { object: 'deal', property: 'amount' }, required: true },
    { field: 'termEnd', source: { object: 'deal', property: 'closedate' } },
    { field: 'region', source: { object: 'deal', property: 'region' } },
  ]);

  it('maps values by kind (number, ISO date from epoch ms, option labels)', () => {
    const result = applyMapping(mapping, {
      deal: { amount: '185000.50', closedate: '1806451200000', region: 'emea' },
      company: { legal_entity_name: ' Acme Corporation Ltd. ' },
      contact: null,
    });
    expect(result).toEqual({
      values: {
        counterpartyLegalName: 'Acme Corporation Ltd.',
        contractValue: 185000.5,
        termEnd: '2027-03-31',
        region: 'EMEA',
      },
      missing: [],
    });
  });

  it('names each missing value with its HubSpot property and why', () => {
    const result = applyMapping(mapping, {
      deal: { amount: 'lots', region: null },
      company: null,
      companyProblem: 'The deal has 2 companies and none is marked primary in HubSpot',
      contact: null,
    });
    expect(result.missing.map((m) => m.reason)).toEqual([
      'no_company',
      'invalid_value',
      'deleted',
      'empty',
    ]);
    const message = requiredFieldsMessage(result.missing) ?? '';
    expect(message).toContain(
      'Counterparty legal name is required but has no value: The deal has 2 companies',
    );
    expect(message).toContain(
      'Contract value is required but has no value: the deal property "Amount" (amount) holds "lots"',
    );
    expect(message).not.toContain('Term end');
  });

  it('flags mapped properties deleted in HubSpot as broken', () => {
    const without = {
      ...CATALOG,
      deal: (CATALOG.deal ?? []).filter((p) => p.name !== 'closedate'),
    };
    expect(brokenMappedFields(mapping, without)).toEqual([
      {
        field: 'termEnd',
        label: 'Term end',
        object: 'deal',
        property: 'closedate',
        reason: 'the property was deleted in HubSpot',
      },
    ]);
  });

  it('takes the contact with the mapping label, else the first', () => {
    const contacts = [
      { id: '1', labels: [] },
      { id: '2', labels: ['Signer'] },
    ];
    expect(mappingContact(contacts, 'signer')?.id).toBe('2');
    expect(mappingContact(contacts, null)?.id).toBe('1');
    expect(mappingContact<{ labels: string[] }>([], 'Signer')).toBeUndefined();
  });
});

describe('the deal context', () => {
  const company = (id: string, primaryInHubSpot: boolean) => ({
    id,
    name: id,
    domain: null,
    primaryInHubSpot,
    properties: {},
  });

  it('chooses the primary company by HubSpot, then the admin, then the only one; never guesses', () => {
    expect(
      choosePrimaryCompany([company('a', false), company('b', true)], 'a').primaryCompany,
    ).toEqual({ id: 'b', source: 'hubspot_primary' });
    expect(
      choosePrimaryCompany([company('a', false), company('b', false)], 'a').primaryCompany,
    ).toEqual({ id: 'a', source: 'admin_choice' });
    expect(choosePrimaryCompany([company('a', false)], undefined).primaryCompany).toEqual({
      id: 'a',
      source: 'only_company',
    });
    const ambiguous = choosePrimaryCompany([company('a', false), company('b', false)], 'zzz');
    expect(ambiguous.primaryCompany).toBeNull();
    expect(ambiguous.primaryCompanyProblem).toContain('none is marked primary');
    expect(choosePrimaryCompany([], undefined)).toEqual({
      primaryCompany: null,
      primaryCompanyProblem: null,
    });
  });

  it('totals line items from quantity × price and net amounts', () => {
    const item = (quantity: string | null, unitPrice: string, amount: string | null) => ({
      id: '1',
      name: null,
      quantity,
      unitPrice,
      unitDiscount: null,
      discountPercentage: null,
      term: null,
      billingFrequency: null,
      amount,
    });
    expect(lineItemTotals([item('500', '300', '135000'), item(null, '50000', null)])).toEqual({
      gross: '200000.00',
      discount: '15000.00',
      net: '185000.00',
    });
    expect(lineItemTotals([])).toBeNull();
  });

  it('renders the counterparty, contacts, line items and what was not read, escaped', () => {
    const out = (
      dealContextHtml({
        currency: 'USD',
        companies: [
          { id: '1', name: 'Acme <Ltd>', domain: 'acme.example', primaryInHubSpot: true },
        ],
        primaryCompany: { id: '1', source: 'hubspot_primary' },
        primaryCompanyProblem: null,
        contacts: [
          {
            id: '9',
            name: 'Ada Byron',
            email: 'ada@acme.example',
            jobTitle: 'GC',
            labels: ['Signer'],
          },
        ],
        lineItems: [
          {
            id: '7',
            name: 'Licence',
            quantity: '2',
            unitPrice: '10',
            unitDiscount: null,
            discountPercentage: '10',
            term: 'P36M',
            amount: '18',
          },
        ],
        lineItemTotals: { gross: '20.00', discount: '2.00', net: '18.00' },
        unread: [{ objects: 'line_items', scope: 'crm.objects.line_items.read' }],
      }) ?? { value: '' }
    ).value;
    expect(out).toContain('Acme &lt;Ltd&gt;');
    expect(out).toContain('primary in HubSpot');
    expect(out).toContain('Signer');
    expect(out).toContain('36 months');
    expect(out).toContain('$18.00');
    expect(out).toContain('crm.objects.line_items.read');
    expect(dealContextHtml({ name: 'old snapshot' })).toBeNull();
    expect(termText('P1Y')).toBe('1 year');
  });
});
