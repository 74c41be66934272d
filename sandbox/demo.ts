import { SANDBOX_STAGE_IDS } from './state.ts';
import type { SandboxControl } from './types.ts';

export const DEMO_PORTAL_ID = 24_681_357;

export interface DemoPortal {
  portalId: number;
  deals: {
    withAttachments: string;
    withoutAttachments: string;
    withSensitiveFile: string;
    inLegalReview: string;
  };
  /** The companies, contacts and line items of the Acme deal (`deals.withAttachments`). */
  acmeContext: {
    primaryCompanyId: string;
    otherCompanyId: string;
    contactIds: string[];
    lineItemIds: string[];
  };
}

/**
 * Contract terms admins usually keep as custom properties: the deal's term and governing law,
 * and the company's registered legal name (HubSpot's `name` is often the trading name).
 */
function seedCustomProperties(control: SandboxControl, portalId: number): void {
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
      { label: 'Delaware', value: 'delaware' },
      { label: 'Germany', value: 'germany' },
    ],
  });
  control.createObjectProperty(portalId, 'companies', {
    name: 'legal_entity_name',
    label: 'Legal entity name',
    type: 'string',
    fieldType: 'text',
  });
  control.createObjectProperty(portalId, 'companies', {
    name: 'sales_region',
    label: 'Sales region',
    type: 'enumeration',
    fieldType: 'select',
    options: [
      { label: 'EMEA', value: 'emea' },
      { label: 'North America', value: 'na' },
      { label: 'APAC', value: 'apac' },
    ],
  });
}

/** Two companies (one primary), three labelled contacts and two line items on a deal. */
function seedDealContext(
  control: SandboxControl,
  portalId: number,
  dealId: string,
): DemoPortal['acmeContext'] {
  const primary = control.createCrmObject(portalId, 'companies', {
    name: 'Acme',
    legal_entity_name: 'Acme Corporation Ltd.',
    domain: 'acme.example',
    city: 'London',
    country: 'United Kingdom',
    sales_region: 'emea',
  });
  const other = control.createCrmObject(portalId, 'companies', {
    name: 'Acme Holdings',
    legal_entity_name: 'Acme Holdings Inc.',
    domain: 'acme-holdings.example',
    city: 'New York',
    country: 'United States',
    sales_region: 'na',
  });
  control.associateWithDeal(portalId, dealId, 'companies', primary.id, { primary: true });
  control.associateWithDeal(portalId, dealId, 'companies', other.id);
  const people: Array<[Record<string, string>, string[]]> = [
    [
      {
        firstname: 'Ada',
        lastname: 'Byron',
        email: 'ada.byron@acme.example',
        jobtitle: 'General Counsel',
      },
      ['Signer'],
    ],
    [
      {
        firstname: 'Grace',
        lastname: 'Hopper',
        email: 'grace.hopper@acme.example',
        jobtitle: 'VP Procurement',
      },
      ['Decision maker'],
    ],
    [
      {
        firstname: 'Alan',
        lastname: 'Turing',
        email: 'alan.turing@acme.example',
        jobtitle: 'IT Lead',
      },
      [],
    ],
  ];
  const contactIds = people.map(([properties, labels]) => {
    const { id } = control.createCrmObject(portalId, 'contacts', properties);
    control.associateWithDeal(portalId, dealId, 'contacts', id, { labels });
    return id;
  });
  const lineItems: Array<Record<string, string>> = [
    {
      name: 'Enterprise platform licence',
      quantity: '500',
      price: '300',
      hs_discount_percentage: '10',
      hs_recurring_billing_period: 'P36M',
      recurringbillingfrequency: 'annually',
    },
    { name: 'Onboarding and training', quantity: '1', price: '50000', discount: '0' },
  ];
  const lineItemIds = lineItems.map((properties) => {
    const { id } = control.createCrmObject(portalId, 'line_items', properties);
    control.associateWithDeal(portalId, dealId, 'line_items', id);
    return id;
  });
  return { primaryCompanyId: primary.id, otherCompanyId: other.id, contactIds, lineItemIds };
}

/**
 * The demo account sandbox mode shows: the "Sales Pipeline" (with "Legal Review" and
 * "Closed Lost" stages) and four deals — one with two PDFs and a DOCX (and two companies, three contacts, two line
 * items), one without
 * attachments, one with a sensitive file, one already in Legal Review.
 */
export function seedDemoPortal(control: SandboxControl): DemoPortal {
  const { portalId } = control.createPortal({
    portalId: DEMO_PORTAL_ID,
    name: 'Northwind Traders (demo)',
    domain: 'northwind-demo.sandbox.hubspot.test',
  });
  const s = SANDBOX_STAGE_IDS;
  seedCustomProperties(control, portalId);
  const acme = control.createDeal(
    portalId,
    {
      dealname: 'Acme Corp — Enterprise MSA 2027',
      amount: '185000',
      deal_currency_code: 'USD',
      closedate: '2027-03-31T00:00:00.000Z',
      contract_start_date: '2027-04-01',
      contract_end_date: '2030-03-31',
      governing_law: 'england_wales',
    },
    { stageId: s.presentationScheduled },
  );
  control.attachNoteWithFiles(portalId, acme.id, [
    {
      name: 'Acme MSA draft v3.pdf',
      text: 'Master Services Agreement\nAcme Corp and Northwind Traders\nDraft v3',
    },
    { name: 'Acme Order Form.pdf', text: 'Order Form\n500 seats, 36 months' },
    { name: 'Acme DPA redlines.docx', text: 'Data Processing Addendum\nRedlines from Acme legal' },
  ]);
  const globex = control.createDeal(
    portalId,
    {
      dealname: 'Globex — Renewal 2027',
      contract_start_date: '2027-01-15',
      contract_end_date: '2028-01-14',
      amount: '42000',
      deal_currency_code: 'EUR',
      closedate: '2027-01-15T00:00:00.000Z',
    },
    { stageId: s.qualifiedToBuy },
  );
  const initech = control.createDeal(
    portalId,
    {
      dealname: 'Initech — Pilot SOW',
      contract_start_date: '2026-12-01',
      contract_end_date: '2027-05-31',
      amount: '12500',
      deal_currency_code: 'USD',
    },
    { stageId: s.appointmentScheduled },
  );
  control.attachNoteWithFiles(portalId, initech.id, [
    { name: 'Initech SOW.pdf', text: 'Statement of Work\nInitech pilot' },
    { name: 'Initech payroll export.pdf', access: 'HIDDEN_SENSITIVE', text: 'Sensitive' },
  ]);
  const umbrella = control.createDeal(
    portalId,
    {
      dealname: 'Umbrella Health — Platform License',
      contract_start_date: '2027-02-01',
      contract_end_date: '2029-01-31',
      amount: '96000',
      deal_currency_code: 'GBP',
    },
    { stageId: s.legalReview },
  );
  control.attachNoteWithFiles(portalId, umbrella.id, [
    {
      name: 'Umbrella License Agreement.docx',
      text: 'Platform License Agreement\nUmbrella Health',
    },
  ]);
  const acmeContext = seedDealContext(control, portalId, acme.id);
  // The other deals each have one company (taken as the counterparty: the only one).
  const others: Array<[string, Record<string, string>]> = [
    [
      globex.id,
      { name: 'Globex', legal_entity_name: 'Globex Corporation GmbH', sales_region: 'emea' },
    ],
    [initech.id, { name: 'Initech', legal_entity_name: 'Initech LLC', sales_region: 'na' }],
    [
      umbrella.id,
      { name: 'Umbrella Health', legal_entity_name: 'Umbrella Health plc', sales_region: 'emea' },
    ],
  ];
  for (const [dealId, properties] of others) {
    const company = control.createCrmObject(portalId, 'companies', properties);
    control.associateWithDeal(portalId, dealId, 'companies', company.id);
  }
  return {
    portalId,
    acmeContext,
    deals: {
      withAttachments: acme.id,
      withoutAttachments: globex.id,
      withSensitiveFile: initech.id,
      inLegalReview: umbrella.id,
    },
  };
}
