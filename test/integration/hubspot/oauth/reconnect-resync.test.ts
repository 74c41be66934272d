import { describe, expect, it } from 'vitest';

import { changeContractStatus } from '../../../../server/src/core/contracts/contracts-service.ts';
import type { NegotiationStatus } from '../../../../server/src/core/contracts/status.ts';
import { hubspotContractHooks } from '../../../../server/src/hubspot/legal-review/contract-hooks.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { WebClient } from '../../../helpers/web-client.ts';
import { hubspotContract } from '../sync/sync-fixtures.ts';

/**
 * After any reconnect, every open contract's deal is written again, not only deals with a
 * write still pending: the portal may have lost its values meanwhile (here: edited while the
 * app was not installed, so no webhook told the app).
 */
const database = await createTestDatabase();
const { db } = database;
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
const control = env.sandbox.control;
const hooks = hubspotContractHooks(env.config, env.jobs);

function callbackPath(redirectUrl: string): string {
  const url = new URL(redirectUrl);
  return `${url.pathname}${url.search}`;
}

/** An install through the consent page in a fresh browser; returns the browser. */
async function install(portalId: number | 'new') {
  const client = new WebClient(env.app);
  const start = await client.get('/api/v1/integrations/hubspot/auth');
  const approved = control.approveInstall(String(start.headers.location), { portalId });
  const callback = await client.get(callbackPath(approved.redirectUrl));
  return { client, portalId: approved.portalId, location: String(callback.headers.location) };
}

const PATHS: Record<string, NegotiationStatus[]> = {
  in_review: ['in_review'],
  changes_requested: ['in_review', 'changes_requested'],
  pending_review: [],
  approved: ['in_review', 'approved'],
  signed: ['in_review', 'approved', 'signed'],
};

async function portalWithContracts() {
  const first = await install('new');
  expect(first.location).toBe('/integrations?notice=hubspot_connected');
  const portalId = String(first.portalId);
  const integration = await db
    .selectFrom('organization_integrations')
    .select('organization_id')
    .where('external_account_id', '=', portalId)
    .executeTakeFirstOrThrow();
  const organizationId = integration.organization_id;
  const deals = new Map<string, { dealId: string; contractId: string }>();
  for (const [status, steps] of Object.entries(PATHS)) {
    const { id: dealId } = control.createDeal(Number(portalId), { dealname: `Deal ${status}` });
    const contract = await hubspotContract(db, { organizationId, portalId, dealId });
    for (const to of steps) {
      await changeContractStatus(
        db,
        { organizationId, contractId: contract.id, to, source: 'api', actor: 'test' },
        hooks,
      );
    }
    deals.set(status, { dealId, contractId: contract.id });
  }
  const shown = (status: string) =>
    control.getDeal(Number(portalId), deals.get(status)?.dealId ?? '')?.properties;
  await waitFor(
    () =>
      ['in_review', 'changes_requested', 'approved', 'signed'].every(
        (s) => shown(s)?.lexicontract_status === s,
      ),
    { what: 'every changed contract’s deal written', timeoutMs: 30_000 },
  );
  return { client: first.client, portalId, deals, shown };
}

/** A person clears the app's properties on every deal while the app is not installed. */
function clearEveryDeal(portalId: string, deals: Map<string, { dealId: string }>) {
  for (const { dealId } of deals.values()) {
    control.editDealAsUser(Number(portalId), dealId, {
      lexicontract_status: '',
      lexicontract_contract_url: '',
    });
  }
}

async function expectOpenDealsRestored(
  deals: Map<string, { dealId: string; contractId: string }>,
  shown: (status: string) => Record<string, string | null> | undefined,
) {
  const open = ['in_review', 'changes_requested', 'pending_review', 'approved'];
  await waitFor(() => open.every((s) => shown(s)?.lexicontract_status === s), {
    what: 'every open contract’s deal written again',
    timeoutMs: 30_000,
  });
  for (const status of open) {
    expect(shown(status)?.lexicontract_contract_url).toBe(
      `${env.baseUrl}/contracts/${deals.get(status)?.contractId ?? ''}`,
    );
  }
  // A decided contract's deal is left as the portal has it.
  expect(shown('signed')?.lexicontract_status ?? null).toBeNull();
}

describe('reconnecting re-syncs every open contract’s deal', () => {
  it('after a disconnect and a new install', async () => {
    const { client, portalId, deals, shown } = await portalWithContracts();
    const page = await client.get('/integrations');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const disconnected = await client.postForm('/api/v1/integrations/hubspot/disconnect', {
      _csrf: csrf,
    });
    expect(disconnected.headers.location).toBe('/integrations?notice=hubspot_disconnected');
    clearEveryDeal(portalId, deals);

    const again = await install(Number(portalId));
    expect(again.location).toBe('/integrations?notice=hubspot_reconnected');
    await expectOpenDealsRestored(deals, shown);
  });

  it('after a re-install of a portal the app still counts as connected', async () => {
    const { portalId, deals, shown } = await portalWithContracts();
    // HubSpot's side forgot the install (as a sandbox without its state did); the app's
    // connection row still says connected.
    control.revokePortal(Number(portalId));
    clearEveryDeal(portalId, deals);

    const again = await install(Number(portalId));
    expect(again.location).toBe('/integrations?notice=hubspot_reconnected');
    await expectOpenDealsRestored(deals, shown);
  });
});
