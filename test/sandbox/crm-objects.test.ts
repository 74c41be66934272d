import { describe, expect, it } from 'vitest';

import { DEMO_PORTAL_ID, demoPortalOf, startSandbox } from '../../sandbox/index.ts';
import { APP_SCOPES, api, installedPortal, sandbox, testApp } from './helpers.ts';

const handle = await sandbox();
const SCOPES = [...APP_SCOPES, 'crm.objects.companies.read', 'crm.objects.line_items.read'];

interface BatchAssociations {
  results: Array<{
    from: { id: string };
    to: Array<{
      toObjectId: string;
      associationTypes: Array<{ category: string; typeId: number; label: string | null }>;
    }>;
  }>;
  errors?: Array<{ category: string; context: Record<string, string[]> }>;
}

function dealWithContext() {
  const { portalId, accessToken } = installedPortal(handle, SCOPES);
  const c = handle.control;
  const deal = c.createDeal(portalId, { dealname: 'Acme MSA', amount: '1000' });
  const primary = c.createCrmObject(portalId, 'companies', {
    name: 'Acme',
    domain: 'acme.example',
  });
  const other = c.createCrmObject(portalId, 'companies', { name: 'Acme Holdings' });
  c.associateWithDeal(portalId, deal.id, 'companies', other.id);
  c.associateWithDeal(portalId, deal.id, 'companies', primary.id, { primary: true });
  const contact = c.createCrmObject(portalId, 'contacts', {
    firstname: 'Ada',
    lastname: 'Byron',
    email: 'ada@acme.example',
    jobtitle: 'General Counsel',
  });
  c.associateWithDeal(portalId, deal.id, 'contacts', contact.id, { labels: ['Signer'] });
  const item = c.createCrmObject(portalId, 'line_items', {
    name: 'Licence',
    quantity: '10',
    price: '100',
    hs_discount_percentage: '10',
  });
  c.associateWithDeal(portalId, deal.id, 'line_items', item.id);
  return { portalId, accessToken, deal, primary, other, contact, item };
}

describe('companies, contacts and line items', () => {
  it('reads records by name and by object type id, with requested properties and null for unset ones', async () => {
    const { accessToken, primary, item } = dealWithContext();
    for (const type of ['companies', '0-2']) {
      const read = await api(
        handle,
        accessToken,
        'GET',
        `/crm/objects/2026-03/${type}/${primary.id}?properties=name,city`,
      );
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        id: primary.id,
        properties: { name: 'Acme', city: null, hs_object_id: primary.id },
        archived: false,
      });
    }
    const batch = await api(
      handle,
      accessToken,
      'POST',
      '/crm/objects/2026-03/line_items/batch/read',
      {
        inputs: [{ id: item.id }, { id: '1' }],
        properties: ['name', 'quantity', 'price', 'amount'],
        propertiesWithHistory: [],
      },
    );
    expect(batch.status).toBe(207);
    expect(batch.body).toMatchObject({
      status: 'COMPLETE',
      results: [{ id: item.id, properties: { name: 'Licence', quantity: '10', amount: '900' } }],
      numErrors: 1,
      errors: [{ category: 'OBJECT_NOT_FOUND', context: { ids: ['1'] } }],
    });
  });

  it('answers 403 MISSING_SCOPES without the object read scope', async () => {
    const { portalId, accessToken } = installedPortal(handle, APP_SCOPES);
    const { id } = handle.control.createCrmObject(portalId, 'companies', { name: 'Acme' });
    const read = await api(handle, accessToken, 'GET', `/crm/objects/2026-03/companies/${id}`);
    expect(read.status).toBe(403);
    expect(read.body).toMatchObject({ category: 'MISSING_SCOPES' });
    // Contacts come with the contacts scope the app already has.
    const contact = handle.control.createCrmObject(portalId, 'contacts', { firstname: 'A' });
    expect(
      (await api(handle, accessToken, 'GET', `/crm/objects/2026-03/contacts/${contact.id}`)).status,
    ).toBe(200);
  });

  it('batch-reads deal associations with the primary company (type 5) and contact labels', async () => {
    const { accessToken, deal, primary, other, contact } = dealWithContext();
    const companies = await api(
      handle,
      accessToken,
      'POST',
      '/crm/associations/2026-09/deals/companies/batch/read',
      { inputs: [{ id: deal.id }] },
    );
    expect(companies.status).toBe(200);
    const body = companies.body as BatchAssociations;
    expect(body.results).toHaveLength(1);
    const byId = new Map(body.results[0]?.to.map((t) => [t.toObjectId, t.associationTypes]));
    expect(byId.get(primary.id)).toEqual(
      expect.arrayContaining([
        { category: 'HUBSPOT_DEFINED', typeId: 341, label: null },
        { category: 'HUBSPOT_DEFINED', typeId: 5, label: 'Primary' },
      ]),
    );
    expect(byId.get(other.id)).toEqual([{ category: 'HUBSPOT_DEFINED', typeId: 341, label: null }]);

    const contacts = await api(
      handle,
      accessToken,
      'POST',
      '/crm/associations/2026-03/deals/contacts/batch/read',
      { inputs: [{ id: deal.id }, { id: '999' }] },
    );
    expect(contacts.status).toBe(207);
    const contactBody = contacts.body as BatchAssociations;
    expect(contactBody.results[0]?.to[0]?.toObjectId).toBe(contact.id);
    expect(contactBody.results[0]?.to[0]?.associationTypes).toEqual(
      expect.arrayContaining([
        { category: 'HUBSPOT_DEFINED', typeId: 3, label: null },
        expect.objectContaining({ category: 'USER_DEFINED', label: 'Signer' }),
      ]),
    );
    expect(contactBody.errors?.[0]?.context).toEqual({ fromObjectId: ['999'] });
  });

  it('serves company → deals (primary type 6) in batch and per record', async () => {
    const { accessToken, deal, primary } = dealWithContext();
    const batch = await api(
      handle,
      accessToken,
      'POST',
      '/crm/associations/2026-03/companies/deals/batch/read',
      { inputs: [{ id: primary.id }] },
    );
    expect(batch.status).toBe(200);
    expect((batch.body as BatchAssociations).results[0]?.to).toEqual([
      {
        toObjectId: deal.id,
        associationTypes: expect.arrayContaining([
          { category: 'HUBSPOT_DEFINED', typeId: 342, label: null },
          { category: 'HUBSPOT_DEFINED', typeId: 6, label: 'Primary' },
        ]) as unknown,
      },
    ]);
    const single = await api(
      handle,
      accessToken,
      'GET',
      `/crm/objects/2026-03/deals/${deal.id}/associations/line_items`,
    );
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({
      results: [{ associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 19, label: null }] }],
    });
    const reverse = await api(
      handle,
      accessToken,
      'GET',
      `/crm/objects/2026-03/companies/${primary.id}/associations/deals`,
    );
    expect(reverse.status).toBe(200);
    expect(reverse.body).toMatchObject({ results: [{ toObjectId: deal.id }] });
  });

  it('lists property definitions per object; an archived property drops out', async () => {
    const { portalId, accessToken } = installedPortal(handle, SCOPES);
    handle.control.createObjectProperty(portalId, 'companies', {
      name: 'legal_entity_name',
      label: 'Legal entity name',
      type: 'string',
      fieldType: 'text',
    });
    const list = await api(handle, accessToken, 'GET', '/crm/properties/2026-03/companies');
    expect(list.status).toBe(200);
    const names = (list.body as { results: Array<{ name: string; label: string; type: string }> })
      .results;
    expect(names).toContainEqual(
      expect.objectContaining({
        name: 'legal_entity_name',
        label: 'Legal entity name',
        type: 'string',
      }),
    );
    const lineItems = await api(handle, accessToken, 'GET', '/crm/properties/2026-03/line_items');
    expect(
      (lineItems.body as { results: Array<{ name: string }> }).results.map((p) => p.name),
    ).toEqual(
      expect.arrayContaining(['quantity', 'price', 'hs_recurring_billing_period', 'discount']),
    );
    handle.control.archiveObjectProperty(portalId, 'companies', 'legal_entity_name');
    const after = await api(handle, accessToken, 'GET', '/crm/properties/2026-03/companies');
    expect(
      (after.body as { results: Array<{ name: string }> }).results.map((p) => p.name),
    ).not.toContain('legal_entity_name');
    expect(
      (await api(handle, accessToken, 'GET', '/crm/properties/2026-03/companies/legal_entity_name'))
        .status,
    ).toBe(404);
    // Deal properties are still served by the deal routes.
    expect((await api(handle, accessToken, 'GET', '/crm/properties/2026-03/deals')).status).toBe(
      200,
    );
  });

  it('refuses bad control input with 400 and the old legacy paths with 404', async () => {
    const { portalId, accessToken } = installedPortal(handle, SCOPES);
    expect(() =>
      handle.control.createCrmObject(portalId, 'line_items', { quantity: 'ten' }),
    ).toThrow(/not a valid number/);
    const response = await fetch(`${handle.url}/_sandbox/portals/${portalId}/objects/companies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { nope: 'x' } }),
    });
    expect(response.status).toBe(400);
    const created = await fetch(`${handle.url}/_sandbox/portals/${portalId}/objects/companies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { name: 'Via HTTP' } }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await api(handle, accessToken, 'GET', `/crm/objects/v3/companies/${id}`)).status).toBe(
      404,
    );
  });
});

describe('demo portal', () => {
  it('seeds the Acme deal with two companies (one primary), three contacts and two line items', async () => {
    const demo = await startSandbox({ app: testApp(), seedDemoPortal: true });
    try {
      const seeded = demoPortalOf(demo);
      expect(seeded?.portalId).toBe(DEMO_PORTAL_ID);
      const context = seeded?.acmeContext;
      expect(context?.contactIds).toHaveLength(3);
      expect(context?.lineItemIds).toHaveLength(2);
      const company = demo.control.getCrmObject(
        DEMO_PORTAL_ID,
        'companies',
        context?.primaryCompanyId ?? '',
      );
      expect(company?.properties).toMatchObject({ legal_entity_name: 'Acme Corporation Ltd.' });
    } finally {
      await demo.close();
    }
  });
});
