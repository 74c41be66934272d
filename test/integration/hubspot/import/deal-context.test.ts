import { afterAll, describe, expect, it } from 'vitest';

import {
  FieldMappingDataSchema,
  PrimaryCompanyDataSchema,
} from '../../../../hubspot-app/app/settings/field-mapping-schemas.ts';
import { REQUIRED_SCOPES } from '../../../../server/src/hubspot/install/scopes.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';

/**
 * The deal's context end to end: companies (primary by HubSpot's label, else an admin's
 * choice), contacts with their labels and line items with totals read from the sandbox at
 * import, the field mapping saved through the signed settings call and applied to the
 * contract's metadata, and the refusals (bad mapping, missing required value).
 */
const database = await createTestDatabase();
const { db } = database;
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
afterAll(async () => {
  await env.jobs.stop(5_000);
});
const { control } = env.sandbox;
const MAPPING = `${env.baseUrl}/api/v1/integrations/hubspot/settings/field-mapping`;

function signed(
  portalId: string,
  method: 'GET' | 'PUT',
  url: string,
  body?: Record<string, unknown>,
) {
  return control.signedCardFetch({
    portalId: Number(portalId),
    userId: 11,
    userEmail: 'admin@example.com',
    method,
    url,
    ...(body !== undefined ? { body } : {}),
  });
}

function customProperties(portalId: number): void {
  control.createObjectProperty(portalId, 'companies', {
    name: 'legal_entity_name',
    label: 'Legal entity name',
    type: 'string',
    fieldType: 'text',
  });
  control.createObjectProperty(portalId, 'deals', {
    name: 'contract_start_date',
    label: 'Contract start date',
    type: 'date',
    fieldType: 'date',
  });
  control.createObjectProperty(portalId, 'deals', {
    name: 'contract_end_date',
    label: 'Contract end date',
    type: 'date',
    fieldType: 'date',
  });
  control.createObjectProperty(portalId, 'deals', {
    name: 'governing_law',
    label: 'Governing law',
    type: 'enumeration',
    fieldType: 'select',
    options: [
      { label: 'England and Wales', value: 'england_wales' },
      { label: 'New York', value: 'new_york' },
    ],
  });
}

/** Two companies (the second primary unless `primary: false`), three contacts, two line items. */
function dealWithContext(portalId: number, opts: { primary?: boolean } = {}) {
  const deal = control.createDeal(portalId, {
    dealname: 'Acme MSA',
    amount: '185000',
    deal_currency_code: 'USD',
    contract_start_date: '2027-04-01',
    contract_end_date: '2030-03-31',
    governing_law: 'england_wales',
  });
  const holding = control.createCrmObject(portalId, 'companies', {
    name: 'Acme Holdings',
    legal_entity_name: 'Acme Holdings Inc.',
  });
  const acme = control.createCrmObject(portalId, 'companies', {
    name: 'Acme',
    legal_entity_name: 'Acme Corporation Ltd.',
    domain: 'acme.example',
  });
  control.associateWithDeal(portalId, deal.id, 'companies', holding.id);
  control.associateWithDeal(portalId, deal.id, 'companies', acme.id, {
    primary: opts.primary !== false,
  });
  const people: Array<[Record<string, string>, string[]]> = [
    [
      {
        firstname: 'Ada',
        lastname: 'Byron',
        email: 'ada@acme.example',
        jobtitle: 'General Counsel',
      },
      ['Signer'],
    ],
    [
      {
        firstname: 'Grace',
        lastname: 'Hopper',
        email: 'grace@acme.example',
        jobtitle: 'VP Procurement',
      },
      ['Decision maker'],
    ],
    [{ firstname: 'Alan', lastname: 'Turing', email: 'alan@acme.example' }, []],
  ];
  for (const [properties, labels] of people) {
    const { id } = control.createCrmObject(portalId, 'contacts', properties);
    control.associateWithDeal(portalId, deal.id, 'contacts', id, { labels });
  }
  const lineItems: Array<Record<string, string>> = [
    {
      name: 'Platform licence',
      quantity: '500',
      price: '300',
      hs_discount_percentage: '10',
      hs_recurring_billing_period: 'P36M',
    },
    { name: 'Onboarding', quantity: '1', price: '50000' },
  ];
  for (const properties of lineItems) {
    const { id } = control.createCrmObject(portalId, 'line_items', properties);
    control.associateWithDeal(portalId, deal.id, 'line_items', id);
  }
  return { dealId: deal.id, acmeId: acme.id, holdingId: holding.id };
}

const MAPPED_FIELDS = [
  {
    field: 'counterpartyLegalName',
    source: { object: 'company', property: 'legal_entity_name' },
    required: true,
  },
  { field: 'contractValue', source: { object: 'deal', property: 'amount' }, required: true },
  {
    field: 'currency',
    source: { object: 'deal', property: 'deal_currency_code' },
    required: false,
  },
  {
    field: 'termStart',
    source: { object: 'deal', property: 'contract_start_date' },
    required: true,
  },
  { field: 'termEnd', source: { object: 'deal', property: 'contract_end_date' }, required: true },
  {
    field: 'governingLaw',
    source: { object: 'deal', property: 'governing_law' },
    required: false,
    options: { england_wales: 'England & Wales' },
  },
  {
    field: 'custom.signer_email',
    label: 'Signer email',
    kind: 'text',
    source: { object: 'contact', property: 'email' },
    required: false,
  },
];

async function send(portalId: string, dealId: string) {
  const fired = await control.fireWorkflowAction(Number(portalId), dealId, {});
  expect(fired.status).toBe(200);
  const done = await waitFor(() => control.callbackCompletions(fired.callbackId)[0], {
    what: `completion of ${fired.callbackId}`,
    timeoutMs: 30_000,
  });
  const contractId = done.outputFields.contract_id ?? '';
  const contract = await db
    .selectFrom('contracts')
    .selectAll()
    .where('id', '=', contractId)
    .executeTakeFirstOrThrow();
  return { done, contract };
}

describe('the deal context at import', () => {
  it('imports a deal with two companies (one primary), three contacts and two line items with the right counterparty legal name, value and term', async () => {
    const { portalId } = await env.connectPortal();
    customProperties(Number(portalId));
    const { dealId, acmeId } = dealWithContext(Number(portalId));
    const saved = await signed(portalId, 'PUT', MAPPING, {
      fields: MAPPED_FIELDS,
      contactLabel: 'Signer',
    });
    expect(saved.status).toBe(200);
    expect(FieldMappingDataSchema.parse(saved.body).version).toBe(1);

    const { done, contract } = await send(portalId, dealId);
    expect(done.outputFields.import_result).toBe('no_attachments');
    expect(contract.metadata).toEqual({
      counterpartyLegalName: 'Acme Corporation Ltd.',
      contractValue: 185000,
      currency: 'USD',
      termStart: '2027-04-01',
      termEnd: '2030-03-31',
      governingLaw: 'England & Wales',
      'custom.signer_email': 'ada@acme.example',
    });
    expect(contract.metadata_mapping_version).toBe(1);
    expect(contract.source_snapshot).toMatchObject({
      dealId,
      primaryCompany: { id: acmeId, source: 'hubspot_primary' },
      primaryCompanyProblem: null,
      unread: [],
      lineItemTotals: { gross: '200000.00', discount: '15000.00', net: '185000.00' },
      mapping: { version: 1, missing: [] },
    });
    const snapshot = contract.source_snapshot as {
      companies: unknown[];
      contacts: Array<{ name: string; email: string; jobTitle: string | null; labels: string[] }>;
      lineItems: Array<{ name: string; term: string | null; amount: string }>;
    };
    expect(snapshot.companies).toHaveLength(2);
    expect(snapshot.contacts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'Ada Byron',
          email: 'ada@acme.example',
          jobTitle: 'General Counsel',
          labels: ['Signer'],
        }),
        expect.objectContaining({ name: 'Alan Turing', jobTitle: null, labels: [] }),
      ]),
    );
    expect(snapshot.lineItems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'Platform licence', term: 'P36M', amount: '135000' }),
        expect.objectContaining({ name: 'Onboarding', amount: '50000' }),
      ]),
    );
    // Batch reads: one associations call and one record call per object type.
    const calls = control.requestLog().filter((e) => e.portalId === Number(portalId));
    expect(calls.filter((e) => e.path.includes('/crm/associations/2026-03/deals/'))).toHaveLength(
      3,
    );
    expect(
      calls.filter((e) =>
        /\/crm\/objects\/2026-09\/(companies|contacts|line_items)\/batch\/read$/.test(e.path),
      ),
    ).toHaveLength(3);
  });

  it('still imports the deal without the optional company and line item scopes, and says what was not read', async () => {
    const { portalId } = await env.connectPortal({ scopes: [...REQUIRED_SCOPES] });
    customProperties(Number(portalId));
    const { dealId } = dealWithContext(Number(portalId));
    const { done, contract } = await send(portalId, dealId);
    expect(done.outputFields.import_result).toBe('no_attachments');
    expect(contract.source_snapshot).toMatchObject({
      companies: [],
      lineItems: [],
      primaryCompany: null,
      unread: [
        { objects: 'companies', scope: 'crm.objects.companies.read' },
        { objects: 'line_items', scope: 'crm.objects.line_items.read' },
      ],
    });
    expect((contract.source_snapshot as { contacts: unknown[] }).contacts).toHaveLength(3);
    const page = await signed(portalId, 'GET', MAPPING);
    expect(FieldMappingDataSchema.parse(page.body).properties.company).toBeNull();
  });

  it('says when no company is primary, fails a required company field naming why, and takes the admin choice on the next send', async () => {
    const { portalId } = await env.connectPortal();
    customProperties(Number(portalId));
    const { dealId, holdingId, acmeId } = dealWithContext(Number(portalId), { primary: false });
    expect(
      (await signed(portalId, 'PUT', MAPPING, { fields: MAPPED_FIELDS, contactLabel: null }))
        .status,
    ).toBe(200);
    const first = await send(portalId, dealId);
    expect(first.done.outputFields.import_result).toBe('mapping_incomplete');
    expect(first.contract.import_state).toBe('failed');
    expect(first.contract.import_error).toContain('Counterparty legal name is required');
    expect(first.contract.import_error).toContain('none is marked primary');
    expect(first.contract.source_snapshot).toMatchObject({ primaryCompany: null });

    const PRIMARY = `${env.baseUrl}/api/v1/integrations/hubspot/settings/primary-company`;
    const looked = await signed(portalId, 'GET', `${PRIMARY}?dealId=${dealId}`);
    expect(looked.status).toBe(200);
    const lookedData = PrimaryCompanyDataSchema.parse(looked.body);
    expect(lookedData.companies.map((c) => c.id).sort()).toEqual([holdingId, acmeId].sort());
    expect(lookedData.primaryCompany).toBeNull();
    expect(lookedData.problem).toContain('none is marked primary');
    const stranger = await signed(portalId, 'PUT', PRIMARY, { dealId, companyId: '1' });
    expect(stranger.status).toBe(400);
    expect(stranger.body).toMatchObject({ error: { code: 'primary_company_not_on_deal' } });

    const chosen = await signed(
      portalId,
      'PUT',
      `${env.baseUrl}/api/v1/integrations/hubspot/settings/primary-company`,
      {
        dealId,
        companyId: holdingId,
      },
    );
    expect(chosen.status).toBe(200);
    expect(PrimaryCompanyDataSchema.parse(chosen.body).primaryCompany).toEqual({
      id: holdingId,
      source: 'admin_choice',
    });
    const second = await send(portalId, dealId);
    expect(second.contract.source_snapshot).toMatchObject({
      primaryCompany: { id: holdingId, source: 'admin_choice' },
    });
    expect(second.contract.metadata).toMatchObject({ counterpartyLegalName: 'Acme Holdings Inc.' });
  });

  it('shows a property deleted in HubSpot as broken, and a send names it', async () => {
    const { portalId } = await env.connectPortal();
    customProperties(Number(portalId));
    const { dealId } = dealWithContext(Number(portalId));
    expect(
      (await signed(portalId, 'PUT', MAPPING, { fields: MAPPED_FIELDS, contactLabel: null }))
        .status,
    ).toBe(200);
    control.archiveObjectProperty(Number(portalId), 'deals', 'contract_end_date');
    const page = FieldMappingDataSchema.parse((await signed(portalId, 'GET', MAPPING)).body);
    expect(page.broken).toEqual([
      expect.objectContaining({ field: 'termEnd', object: 'deal', property: 'contract_end_date' }),
    ]);
    const { done, contract } = await send(portalId, dealId);
    expect(done.outputFields.import_result).toBe('mapping_incomplete');
    expect(contract.import_error).toContain(
      '"Contract end date" (contract_end_date) no longer exists in HubSpot',
    );
  });
});

describe('PUT /settings/field-mapping refusals', () => {
  it.each([
    [
      'an unknown property',
      [
        {
          field: 'termEnd',
          source: { object: 'deal', property: 'no_such_thing' },
          required: false,
        },
      ],
      'mapping_unknown_property',
      'fields.0.source.property',
    ],
    [
      'a text property on a date field',
      [{ field: 'termStart', source: { object: 'deal', property: 'dealname' }, required: false }],
      'mapping_wrong_type',
      'fields.0.source.property',
    ],
    [
      'an option the enumeration does not have',
      [
        {
          field: 'governingLaw',
          source: { object: 'deal', property: 'governing_law' },
          required: false,
          options: { mars: 'Mars' },
        },
      ],
      'mapping_unknown_option',
      'fields.0.options.mars',
    ],
    [
      '101 mapped fields',
      Array.from({ length: 101 }, (_, i) => ({
        field: `custom.f${i}`,
        label: `F${i}`,
        kind: 'text',
        source: { object: 'deal', property: 'dealname' },
        required: false,
      })),
      'mapping_too_many_fields',
      'fields',
    ],
  ])(
    'answers 400 for %s with a stable code naming the field, and keeps the mapping',
    async (_what, fields, code, path) => {
      const { portalId } = await env.connectPortal();
      customProperties(Number(portalId));
      expect(
        (
          await signed(portalId, 'PUT', MAPPING, {
            fields: MAPPED_FIELDS.slice(1, 2),
            contactLabel: null,
          })
        ).status,
      ).toBe(200);
      const refused = await signed(portalId, 'PUT', MAPPING, { fields, contactLabel: null });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { code, details: [{ path }] } });
      const page = FieldMappingDataSchema.parse((await signed(portalId, 'GET', MAPPING)).body);
      expect(page.version).toBe(1);
      expect(page.fields.map((f) => f.field)).toEqual(['contractValue']);
    },
  );
});
