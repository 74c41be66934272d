import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { writeContractFile } from '../../../server/src/core/contracts/contract-files.ts';
import { createContract } from '../../../server/src/core/contracts/contracts-service.ts';
import { recordContractMetadata } from '../../../server/src/core/contracts/external-records.ts';
import { createOrganization } from '../../../server/src/core/organizations/organizations.ts';
import { createSignInLink } from '../../../server/src/core/auth/sign-in-links.ts';
import { buildTestApp } from '../../helpers/test-app.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { csrfFrom, multipartForm, WebClient } from '../../helpers/web-client.ts';

const database = await createTestDatabase();
const app = await buildTestApp({ db: database.db });

async function signedIn(name: string) {
  const org = await createOrganization(database.db, name);
  const link = await createSignInLink(
    database.db,
    { publicBaseUrl: 'https://lexicontract.test' },
    { organizationId: org.id, email: `legal@${name.toLowerCase()}.test` },
  );
  const client = new WebClient(app);
  await client.postForm('/sign-in/link', {
    token: new URL(link.url).searchParams.get('token') ?? '',
  });
  return { client, org };
}

async function hubspotContract(organizationId: string, dealId: string) {
  return createContract(database.db, {
    organizationId,
    title: `Deal ${dealId} MSA`,
    externalSource: 'hubspot',
    externalId: dealId,
    externalAccountId: '777001',
    createdBySource: 'hubspot_workflow',
    actor: 'hubspot:portal:777001',
    sourceSnapshot: { dealname: `Deal ${dealId}`, amount: '12000' },
  });
}

describe('contracts pages', () => {
  it('lists the organization’s contracts with filters and shows one with its files and history', async () => {
    const { client, org } = await signedIn('Contoso');
    const contract = await hubspotContract(org.id, '5551');
    await hubspotContract(org.id, '5552');
    await writeContractFile(
      database.db,
      {
        organizationId: org.id,
        contractId: contract.id,
        name: 'MSA.pdf',
        contentType: 'application/pdf',
      },
      Readable.from([Buffer.from('%PDF-1.4 test contract')]),
    );

    const list = await client.get('/contracts');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('Deal 5551 MSA');
    expect(list.body).toContain('Deal 5552 MSA');
    const searched = await client.get('/contracts?q=5551');
    expect(searched.body).toContain('Deal 5551 MSA');
    expect(searched.body).not.toContain('Deal 5552 MSA');
    const filtered = await client.get('/contracts?status=signed');
    // Rendered text, whitespace collapsed as a browser shows it.
    expect(filtered.body.replace(/\s+/g, ' ')).toContain('No contracts match these filters');

    const detail = await client.get(`/contracts/${contract.id}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.body).toContain('MSA.pdf');
    expect(detail.body).toContain('12,000');
    // Only the allowed next statuses are offered.
    const options = [...detail.body.matchAll(/<option value="([a-z_]+)">/g)].map((m) => m[1]);
    expect(options.sort()).toEqual(['cancelled', 'in_review', 'rejected']);

    const fileId = /href="\/contracts\/[^/]+\/files\/([^"]+)"/.exec(detail.body)?.[1] ?? '';
    const file = await client.get(`/contracts/${contract.id}/files/${fileId}`);
    expect(file.statusCode).toBe(200);
    expect(file.body).toBe('%PDF-1.4 test contract');
    expect(file.headers['content-disposition']).toContain('MSA.pdf');
  });

  it('uploads a reviewed version from the form, checks _csrf first and lists versions in order', async () => {
    const { client, org } = await signedIn('Northwind');
    const contract = await hubspotContract(org.id, '7001');
    const page = await client.get(`/contracts/${contract.id}`);
    expect(page.body).toContain('enctype="multipart/form-data"');
    const file = { name: 'file', fileName: 'MSA v2.pdf', body: Buffer.from('%PDF-1.7 reviewed') };
    const forged = await client.postMultipart(
      `/contracts/${contract.id}/files`,
      multipartForm({ _csrf: 'wrong' }, file),
    );
    expect(forged.statusCode).toBe(401);
    const uploaded = await client.postMultipart(
      `/contracts/${contract.id}/files`,
      multipartForm({ _csrf: csrfFrom(page.body) }, file),
    );
    expect(uploaded.headers.location).toBe(`/contracts/${contract.id}?notice=file_uploaded`);
    const second = await client.postMultipart(
      `/contracts/${contract.id}/files`,
      multipartForm(
        { _csrf: csrfFrom(page.body) },
        { ...file, fileName: 'MSA v3.pdf', body: Buffer.from('%PDF-1.7 reviewed again') },
      ),
    );
    expect(second.statusCode).toBe(302);
    const detail = (await client.get(`/contracts/${contract.id}`)).body.replace(/\s+/g, ' ');
    expect(detail.indexOf('MSA v2.pdf')).toBeLessThan(detail.indexOf('MSA v3.pdf'));
    expect(detail).toContain('Uploaded by legal');
    const rows = detail.split('data-testid="file-version"').slice(1);
    expect(rows).toHaveLength(2);
    // The second upload replaces the first: its "Replaces" cell names v1.
    expect(rows[1]).toContain('MSA v3.pdf');
    expect(rows[1]?.replace(/<[^>]*>/g, '|').replace(/[\s|]+/g, ' ')).toContain(' v1 ');
  });

  it('changes status from the form: history, audit and the HubSpot outbox row commit together', async () => {
    const { client, org } = await signedIn('Fabrikam');
    const contract = await hubspotContract(org.id, '6001');
    const csrf = csrfFrom((await client.get(`/contracts/${contract.id}`)).body);
    const changed = await client.postForm(`/contracts/${contract.id}/status`, {
      _csrf: csrf,
      negotiation_status: 'in_review',
      expected_version: '1',
    });
    expect(changed.headers.location).toBe(`/contracts/${contract.id}?notice=status_changed`);
    const outbox = await database.db
      .selectFrom('hubspot_deal_sync')
      .selectAll()
      .where('deal_id', '=', '6001')
      .executeTakeFirstOrThrow();
    expect(outbox).toMatchObject({
      desired_status: 'in_review',
      state: 'pending',
      organization_id: org.id,
    });
    expect(outbox.desired_contract_url).toBe(`https://lexicontract.test/contracts/${contract.id}`);
    const page = await client.get(`/contracts/${contract.id}`);
    expect(page.body).toContain('data-testid="sync-state">Pending');

    // A stale form (version 1 again) is refused and changes nothing.
    const stale = await client.postForm(`/contracts/${contract.id}/status`, {
      _csrf: csrf,
      negotiation_status: 'approved',
      expected_version: '1',
    });
    expect(stale.headers.location).toBe(`/contracts/${contract.id}?notice=changed_meanwhile`);
    const row = await database.db
      .selectFrom('contracts')
      .select('negotiation_status')
      .where('id', '=', contract.id)
      .executeTakeFirstOrThrow();
    expect(row.negotiation_status).toBe('in_review');
  });

  it('shows the deal’s counterparty, contacts, line items and the mapped contract fields readably', async () => {
    const { client, org } = await signedIn('Fabrikam');
    const contract = await createContract(database.db, {
      organizationId: org.id,
      title: 'Acme MSA',
      externalSource: 'hubspot',
      externalId: '5561',
      externalAccountId: '777001',
      createdBySource: 'hubspot_workflow',
      actor: 'hubspot:portal:777001',
      sourceSnapshot: {
        name: 'Acme MSA',
        currency: 'USD',
        companies: [
          { id: '301', name: 'Acme', domain: 'acme.example', primaryInHubSpot: true },
          { id: '302', name: 'Acme Holdings', domain: null, primaryInHubSpot: false },
        ],
        primaryCompany: { id: '301', source: 'hubspot_primary' },
        primaryCompanyProblem: null,
        contacts: [
          {
            id: '201',
            name: 'Ada Byron',
            email: 'ada@acme.example',
            jobTitle: 'General Counsel',
            labels: ['Signer'],
          },
        ],
        lineItems: [
          {
            id: '701',
            name: 'Platform licence',
            quantity: '500',
            unitPrice: '300',
            unitDiscount: null,
            discountPercentage: '10',
            term: 'P36M',
            amount: '135000',
          },
        ],
        lineItemTotals: { gross: '150000.00', discount: '15000.00', net: '135000.00' },
        unread: [],
      },
    });
    await recordContractMetadata(
      database.db,
      contract.id,
      {
        counterpartyLegalName: 'Acme Corporation Ltd.',
        contractValue: 185000,
        currency: 'USD',
        termStart: '2027-04-01',
      },
      2,
    );
    const detail = await client.get(`/contracts/${contract.id}`);
    expect(detail.statusCode).toBe(200);
    const text = detail.body.replace(/\s+/g, ' ');
    expect(detail.body).toContain('data-testid="deal-context"');
    expect(text).toContain('primary in HubSpot, HubSpot company 301');
    expect(text).toContain('Acme Holdings');
    expect(text).toContain('General Counsel');
    expect(text).toContain('Signer');
    expect(text).toContain('36 months');
    expect(text).toContain('$135,000.00');
    expect(text).toContain('Counterparty legal name');
    expect(text).toContain('Acme Corporation Ltd.');
    expect(text).toContain('$185,000.00');
    expect(text).toContain('field mapping version 2');
    // Readably, not as raw JSON.
    expect(detail.body).not.toContain('"primaryInHubSpot"');
  });

  it('never shows another organization’s contract or file', async () => {
    const owner = await signedIn('Tailspin');
    const contract = await hubspotContract(owner.org.id, '7001');
    const intruder = await signedIn('Wingtip');
    const detail = await intruder.client.get(`/contracts/${contract.id}`);
    expect(detail.statusCode).toBe(404);
    expect(detail.body).not.toContain('Deal 7001');
    const list = await intruder.client.get('/contracts');
    expect(list.body).not.toContain('Deal 7001');
    const csrf = csrfFrom((await intruder.client.get('/contracts')).body);
    const change = await intruder.client.postForm(`/contracts/${contract.id}/status`, {
      _csrf: csrf,
      negotiation_status: 'cancelled',
      expected_version: '1',
    });
    expect(change.statusCode).toBe(404);
  });
});
