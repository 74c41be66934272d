import {
  Alert,
  Button,
  Checkbox,
  Input,
  LoadingButton,
  LoadingSpinner,
  Select,
  Text,
  hubspot,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  FieldMappingSection,
  customKey,
} from '../../hubspot-app/app/settings/FieldMappingSection.tsx';
import {
  FieldMappingDataSchema,
  type FieldMappingData,
} from '../../hubspot-app/app/settings/field-mapping-schemas.ts';

const URL_MAPPING =
  'https://lexicontract.example.com/api/v1/integrations/hubspot/settings/field-mapping';

const DATA: FieldMappingData = {
  version: 3,
  fields: [
    {
      field: 'counterpartyLegalName',
      label: 'Counterparty legal name',
      kind: 'text',
      source: { object: 'company', property: 'legal_entity_name' },
      required: true,
      propertyLabel: 'Legal entity name',
    },
  ],
  contactLabel: 'Signer',
  targets: [
    { key: 'counterpartyLegalName', label: 'Counterparty legal name', kind: 'text' },
    { key: 'termStart', label: 'Term start', kind: 'date' },
    { key: 'governingLaw', label: 'Governing law', kind: 'text' },
  ],
  acceptedTypes: {
    text: ['string', 'enumeration', 'phone_number'],
    number: ['number'],
    currency: ['enumeration', 'string'],
    date: ['date', 'datetime'],
  },
  properties: {
    deal: [
      { name: 'dealname', label: 'Deal Name', type: 'string', options: [] },
      { name: 'closedate', label: 'Close Date', type: 'datetime', options: [] },
      {
        name: 'governing_law',
        label: 'Governing law',
        type: 'enumeration',
        options: [
          { value: 'england_wales', label: 'England and Wales' },
          { value: 'new_york', label: 'New York' },
        ],
      },
    ],
    company: [
      { name: 'legal_entity_name', label: 'Legal entity name', type: 'string', options: [] },
    ],
    contact: null,
  },
  broken: [
    {
      field: 'termEnd',
      label: 'Term end',
      object: 'deal',
      property: 'contract_end_date',
      reason: 'the property was deleted in HubSpot',
    },
  ],
  maxFields: 100,
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function stubFetch(answers: Response[]) {
  return vi.spyOn(hubspot, 'fetch').mockImplementation(async () => {
    const next = answers.shift();
    if (next === undefined) throw new Error('unexpected hubspot.fetch');
    return next;
  });
}

async function render() {
  const renderer = createRenderer('settings');
  renderer.render(<FieldMappingSection />);
  await renderer.waitFor(() => {
    expect(renderer.maybeFind(LoadingSpinner)).toBeNull();
  });
  return renderer;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('FieldMappingSection', () => {
  it('has a valid fixture', () => {
    expect(FieldMappingDataSchema.safeParse(DATA).success).toBe(true);
  });

  it('shows the mapping, broken mappings, unreadable objects, and offers only properties of the right type', async () => {
    stubFetch([json(200, DATA)]);
    const renderer = await render();
    expect(renderer.findByTestId(Alert, 'mapping-broken').text).toContain('contract_end_date');
    expect(renderer.findByTestId(Alert, 'mapping-unreadable-contact').props.variant).toBe(
      'warning',
    );
    expect(renderer.findByTestId(Select, 'property-counterpartyLegalName').props.value).toBe(
      'legal_entity_name',
    );
    expect(renderer.findByTestId(Checkbox, 'required-counterpartyLegalName').props.checked).toBe(
      true,
    );
    // A date field offers the deal's date properties only.
    const termOptions = renderer
      .findByTestId(Select, 'property-termStart')
      .props.options.map((o) => o.value);
    expect(termOptions).toEqual(['', 'closedate']);
    expect(renderer.findByTestId(Input, 'contact-label').props.value).toBe('Signer');
  });

  it('maps an enumeration option, adds a custom field and saves the whole mapping with a signed PUT', async () => {
    const fetch = stubFetch([json(200, DATA), json(200, { ...DATA, version: 4, broken: [] })]);
    const renderer = await render();
    renderer
      .findByTestId(Select, 'property-governingLaw')
      .trigger('onChange', 'governing_law' as never);
    await renderer.waitFor(() => {
      expect(
        renderer.maybeFind(Input, { testId: 'option-governingLaw-england_wales' }),
      ).not.toBeNull();
    });
    renderer
      .findByTestId(Input, 'option-governingLaw-england_wales')
      .trigger('onChange', 'England & Wales' as never);
    renderer.findByTestId(Input, 'custom-label').trigger('onChange', 'PO number' as never);
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Button, 'add-custom').props.disabled).toBe(false);
    });
    renderer.findByTestId(Button, 'add-custom').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Select, { testId: 'property-custom.po_number' })).not.toBeNull();
    });
    renderer
      .findByTestId(Select, 'property-custom.po_number')
      .trigger('onChange', 'dealname' as never);
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Select, 'property-custom.po_number').props.value).toBe(
        'dealname',
      );
    });
    renderer.findByTestId(LoadingButton, 'save-mapping').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Alert, { testId: 'mapping-saved' })).not.toBeNull();
    });
    expect(fetch).toHaveBeenLastCalledWith(URL_MAPPING, {
      method: 'PUT',
      timeout: 8_000,
      body: {
        fields: [
          {
            field: 'counterpartyLegalName',
            source: { object: 'company', property: 'legal_entity_name' },
            required: true,
          },
          {
            field: 'governingLaw',
            source: { object: 'deal', property: 'governing_law' },
            required: false,
            options: { england_wales: 'England & Wales' },
          },
          {
            field: 'custom.po_number',
            label: 'PO number',
            kind: 'text',
            source: { object: 'deal', property: 'dealname' },
            required: false,
          },
        ],
        contactLabel: 'Signer',
      },
    });
    expect(renderer.maybeFind(Alert, { testId: 'mapping-broken' })).toBeNull();
  });

  it('shows the refusal the backend names', async () => {
    stubFetch([
      json(200, DATA),
      json(400, {
        error: {
          code: 'mapping_wrong_type',
          message:
            'Term start takes a date or datetime property; "Deal Name" is a string property.',
        },
      }),
    ]);
    const renderer = await render();
    renderer.findByTestId(LoadingButton, 'save-mapping').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Alert, 'mapping-problem').text).toContain(
        'Term start takes a date',
      );
    });
  });

  it('makes custom field keys from labels', () => {
    expect(customKey('Purchase order #')).toBe('custom.purchase_order');
    expect(customKey('2nd signer')).toBe('custom.f_2nd_signer');
  });
});

describe('PrimaryCompanyChoice', () => {
  const PRIMARY =
    'https://lexicontract.example.com/api/v1/integrations/hubspot/settings/primary-company';
  const companies = [
    { id: '301', name: 'Acme', domain: 'acme.example', primaryInHubSpot: false },
    { id: '302', name: 'Acme Holdings', domain: null, primaryInHubSpot: false },
  ];

  it('looks a deal up, says why none is taken, and saves the admin’s choice', async () => {
    const fetch = vi.spyOn(hubspot, 'fetch').mockImplementation(async (url, init) => {
      if (String(url) === URL_MAPPING) return json(200, DATA);
      if (String(url) === `${PRIMARY}?dealId=4242` && init?.method === 'GET') {
        return json(200, {
          dealId: '4242',
          companies,
          primaryCompany: null,
          problem: 'The deal has 2 companies and none is marked primary in HubSpot.',
          readable: true,
        });
      }
      if (String(url) === PRIMARY && init?.method === 'PUT') {
        return json(200, {
          dealId: '4242',
          companies,
          primaryCompany: { id: '302', source: 'admin_choice' },
          problem: null,
          readable: true,
        });
      }
      throw new Error(`unexpected hubspot.fetch ${String(url)}`);
    });
    const renderer = await render();
    renderer.findByTestId(Input, 'primary-deal-id').trigger('onChange', '4242' as never);
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Button, 'primary-look-up').props.disabled).toBe(false);
    });
    renderer.findByTestId(Button, 'primary-look-up').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Text, 'primary-current').text).toContain(
        'none is marked primary',
      );
    });
    renderer.findByTestId(Select, 'primary-choice').trigger('onChange', '302' as never);
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Select, 'primary-choice').props.value).toBe('302');
    });
    renderer.findByTestId(LoadingButton, 'primary-save').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Text, 'primary-current').text).toBe(
        'A send takes Acme Holdings (chosen here).',
      );
    });
    expect(fetch).toHaveBeenCalledWith(PRIMARY, {
      method: 'PUT',
      timeout: 8_000,
      body: { dealId: '4242', companyId: '302' },
    });
  });
});
