import { describe, expect, it } from 'vitest';

import { ApiErrorSchema } from '../../../../hubspot-app/app/cards/api-schemas.ts';
import {
  COMPANY_CARD_CONTRACT_LIMIT,
  CompanyCardDataSchema,
  type CompanyCardReady,
} from '../../../../hubspot-app/app/cards/company-api-schemas.ts';
import { changeContractStatus } from '../../../../server/src/core/contracts/contracts-service.ts';
import { OPTIONAL_SCOPES, REQUIRED_SCOPES } from '../../../../server/src/hubspot/install/scopes.ts';
import { SIGNATURE_HEADERS, signV3 } from '../../../../server/src/hubspot/signature/index.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { hubspotContract } from '../sync/sync-fixtures.ts';

/**
 * The Company card's endpoint end to end: the app on a real port, real Postgres, the
 * sandbox over HTTP (companies and their deal associations), requests signed by the
 * sandbox the way `hubspot.fetch` signs them.
 */
const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
const control = env.sandbox.control;
const COMPANY_CARD = `${env.baseUrl}/api/v1/integrations/hubspot/card/company`;

function companyCardGet(portalId: string, companyId: string) {
  return control.signedCardFetch({
    portalId: Number(portalId),
    userId: 7,
    userEmail: 'rep7@example.com',
    method: 'GET',
    url: `${COMPANY_CARD}?companyId=${companyId}`,
  });
}

function ready(body: unknown): CompanyCardReady {
  const data = CompanyCardDataSchema.parse(body);
  if (data.state !== 'ready') throw new Error(`expected the ready state, got ${data.state}`);
  return data;
}

/** Associations reads of a portal the sandbox answered (the card's HubSpot calls). */
function companyReads(portalId: string, companyId: string) {
  return control
    .requestLog()
    .filter(
      (e) =>
        e.portalId === Number(portalId) &&
        e.path.startsWith(`/crm/objects/2026-03/companies/${companyId}/associations/deals`),
    );
}

/** A company with `deals` deals in a portal, each associated with it. */
function companyWithDeals(portalId: string, deals: number, name = 'Acme Inc.') {
  const { id: companyId } = control.createCrmObject(Number(portalId), 'companies', { name });
  const dealIds = Array.from({ length: deals }, (_, i) => {
    const { id } = control.createDeal(Number(portalId), { dealname: `${name} deal ${i + 1}` });
    control.associateWithDeal(Number(portalId), id, 'companies', companyId, { primary: true });
    return id;
  });
  return { companyId, dealIds };
}

describe('GET /card/company', () => {
  it('lists every contract across the company’s deals, with status label and link, in one HubSpot call', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const { companyId, dealIds } = companyWithDeals(portalId, 3);
    const [first, second, third] = dealIds;
    if (!first || !second || !third) throw new Error('three deals');
    const older = await hubspotContract(db, {
      organizationId,
      portalId,
      dealId: first,
      title: 'Acme MSA',
    });
    const newer = await hubspotContract(db, {
      organizationId,
      portalId,
      dealId: first,
      title: 'Acme MSA v2',
    });
    const other = await hubspotContract(db, {
      organizationId,
      portalId,
      dealId: second,
      title: 'Acme order form',
    });
    await changeContractStatus(db, {
      organizationId,
      contractId: other.id,
      to: 'in_review',
      source: 'api',
      actor: 'test',
    });
    // Not the company's: a deal of another company in the same portal, and the same deal id
    // in another organization's portal.
    const elsewhere = companyWithDeals(portalId, 1, 'Globex');
    await hubspotContract(db, {
      organizationId,
      portalId,
      dealId: elsewhere.dealIds[0] ?? '',
      title: 'Globex MSA',
    });
    const stranger = await env.connectPortal();
    await hubspotContract(db, {
      organizationId: stranger.organizationId,
      portalId: stranger.portalId,
      dealId: first,
      title: 'Someone else’s contract',
    });

    control.reset();
    const response = await companyCardGet(portalId, companyId);
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const data = ready(response.body);
    expect(data.company).toEqual({ id: companyId });
    expect(data.dealCount).toBe(3);
    expect(data.truncated).toBe(false);
    // Most recently changed first: the one moved to in_review, then the newest created.
    expect(data.contracts.map((c) => c.title)).toEqual([
      'Acme order form',
      'Acme MSA v2',
      'Acme MSA',
    ]);
    expect(data.contracts[0]).toMatchObject({
      id: other.id,
      dealId: second,
      status: 'in_review',
      statusLabel: 'In review',
      open: true,
      url: `${env.baseUrl}/contracts/${other.id}`,
    });
    expect(data.contracts[1]).toMatchObject({
      id: newer.id,
      dealId: first,
      status: 'pending_review',
      statusLabel: 'Pending review',
    });
    expect(data.contracts[2]?.id).toBe(older.id);
    expect(companyReads(portalId, companyId)).toHaveLength(1);
    expect(companyReads(portalId, companyId)[0]?.status).toBe(200);
  });

  it('shows an empty list for a company without deals, or whose deals were never sent', async () => {
    const { portalId } = await env.connectPortal();
    const lonely = companyWithDeals(portalId, 0);
    const noDeals = ready((await companyCardGet(portalId, lonely.companyId)).body);
    expect(noDeals).toMatchObject({ dealCount: 0, contracts: [], truncated: false });
    const unsent = companyWithDeals(portalId, 2, 'Initech');
    const notSent = ready((await companyCardGet(portalId, unsent.companyId)).body);
    expect(notSent).toMatchObject({ dealCount: 2, contracts: [], truncated: false });
  });

  it(`lists at most ${COMPANY_CARD_CONTRACT_LIMIT} contracts and says when there are more`, async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const { companyId, dealIds } = companyWithDeals(portalId, 2);
    for (let i = 0; i <= COMPANY_CARD_CONTRACT_LIMIT; i += 1) {
      await hubspotContract(db, {
        organizationId,
        portalId,
        dealId: dealIds[i % 2] ?? '',
        title: `Contract ${i}`,
      });
    }
    const data = ready((await companyCardGet(portalId, companyId)).body);
    expect(data.contracts).toHaveLength(COMPANY_CARD_CONTRACT_LIMIT);
    expect(data.truncated).toBe(true);
    expect(JSON.stringify(data).length).toBeLessThan(1024 * 1024);
  });

  it('answers 404 company_not_found for a company of another portal, showing nothing', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const other = await env.connectPortal();
    const theirs = companyWithDeals(other.portalId, 1);
    await hubspotContract(db, {
      organizationId,
      portalId,
      dealId: theirs.dealIds[0] ?? '',
      title: 'Same deal id, other portal',
    });
    const response = await companyCardGet(portalId, theirs.companyId);
    expect(response.status).toBe(404);
    expect(ApiErrorSchema.parse(response.body).error.code).toBe('company_not_found');
    const malformed = await companyCardGet(portalId, 'abc');
    expect(malformed.status).toBe(400);
    expect(ApiErrorSchema.parse(malformed.body).error.code).toBe('invalid_request');
  });

  it('says "re-authorize to see company contracts" for a portal without the companies scope, calling nothing', async () => {
    const withoutCompanies = [
      ...REQUIRED_SCOPES,
      ...OPTIONAL_SCOPES.filter((s) => s !== 'crm.objects.companies.read'),
    ];
    const { organizationId, portalId } = await env.connectPortal({ scopes: withoutCompanies });
    const { companyId, dealIds } = companyWithDeals(portalId, 1);
    await hubspotContract(db, { organizationId, portalId, dealId: dealIds[0] ?? '' });
    control.reset();
    const response = await companyCardGet(portalId, companyId);
    expect(response.status).toBe(200);
    const data = CompanyCardDataSchema.parse(response.body);
    if (data.state !== 'needs_scope') throw new Error(`expected needs_scope, got ${data.state}`);
    expect(data.message).toContain('re-authorize to see company contracts');
    expect(data.reauthorizeUrl).toBe(`${env.baseUrl}/api/v1/integrations/hubspot/auth`);
    expect(companyReads(portalId, companyId)).toHaveLength(0);
  });

  it('says the same when HubSpot refuses the read for a missing scope (403 MISSING_SCOPES)', async () => {
    const withoutCompanies = [
      ...REQUIRED_SCOPES,
      ...OPTIONAL_SCOPES.filter((s) => s !== 'crm.objects.companies.read'),
    ];
    const { organizationId, portalId } = await env.connectPortal({ scopes: withoutCompanies });
    // Our record says granted (e.g. recorded before HubSpot withdrew it); HubSpot's token has not.
    await db
      .updateTable('organization_integrations')
      .set({ granted_scopes: [...withoutCompanies, 'crm.objects.companies.read'] })
      .where('organization_id', '=', organizationId)
      .execute();
    const { companyId } = companyWithDeals(portalId, 1);
    const response = await companyCardGet(portalId, companyId);
    expect(response.status).toBe(200);
    expect(CompanyCardDataSchema.parse(response.body).state).toBe('needs_scope');
    expect(companyReads(portalId, companyId).map((e) => e.status)).toEqual([403]);
  });

  it('shows the not-connected state for a portal never connected', async () => {
    const { portalId } = control.createPortal({ name: 'Never connected' });
    const { id: companyId } = control.createCrmObject(portalId, 'companies', { name: 'X' });
    const response = await companyCardGet(String(portalId), companyId);
    expect(response.status).toBe(200);
    const data = CompanyCardDataSchema.parse(response.body);
    expect(data).toMatchObject({ state: 'needs_reconnect', reason: 'not_connected' });
  });
});

describe('signature checks on the company card endpoint', () => {
  function signedHeaders(method: string, uri: string, secret = env.config.hubspot.clientSecret) {
    const timestamp = String(Date.now());
    return {
      [SIGNATURE_HEADERS.v3]: signV3({ clientSecret: secret, method, uri, rawBody: '', timestamp }),
      [SIGNATURE_HEADERS.timestamp]: timestamp,
    };
  }

  async function setup() {
    const { portalId } = await env.connectPortal();
    const { companyId } = companyWithDeals(portalId, 1);
    const query = `companyId=${companyId}&userId=7&userEmail=rep%40example.com&appId=${env.config.hubspot.appId}&portalId=${portalId}`;
    return { portalId, companyId, uri: `${COMPANY_CARD}?${query}` };
  }

  it('accepts a correctly signed request made by hand (the control case)', async () => {
    const { uri } = await setup();
    const response = await fetch(uri, { headers: signedHeaders('GET', uri) });
    expect(response.status).toBe(200);
    expect(CompanyCardDataSchema.parse(await response.json()).state).toBe('ready');
  });

  it('refuses an unsigned request, a wrong secret, and another portal id than the one signed', async () => {
    const { uri, portalId } = await setup();
    const unsigned = await fetch(uri);
    expect(unsigned.status).toBe(401);
    expect(ApiErrorSchema.parse(await unsigned.json()).error.code).toBe('invalid_signature');
    const wrong = await fetch(uri, { headers: signedHeaders('GET', uri, 'not-the-secret') });
    expect(wrong.status).toBe(401);
    const other = await env.connectPortal();
    const altered = uri.replace(`portalId=${portalId}`, `portalId=${other.portalId}`);
    const response = await fetch(altered, { headers: signedHeaders('GET', uri) });
    expect(response.status).toBe(401);
    expect(ApiErrorSchema.parse(await response.json()).error.code).toBe('invalid_signature');
  });
});
