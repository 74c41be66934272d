import type { CrmAdapter, ContractSyncState } from '../crm/port.ts';
import { contractUrl } from '../core/contracts/contract.ts';
import { hubspotContractHooks } from './legal-review/contract-hooks.ts';
import { fileWriteBackProblems } from './legal-review/file-write-back.ts';
import { hubspotConnectionPanel } from './install/connection-panel.ts';
import { dealContextHtml } from './legal-review/deal-context-view.ts';
import { startHubSpotJobs } from './jobs.ts';
import { enqueueDealSync } from './outbox/deal-sync-outbox.ts';
import { listDealSyncStates, retryFailedSyncs } from './outbox/health.ts';
import { hubspotRoutes } from './plugin.ts';

/** HubSpot as a CRM adapter: the one place the roots take HubSpot from. */
export const hubspotAdapter: CrmAdapter = {
  id: 'hubspot',
  name: 'HubSpot',
  recordNoun: 'deal',
  accountNoun: 'Portal',
  routes: hubspotRoutes,
  startJobs: startHubSpotJobs,
  contractHooks: hubspotContractHooks,
  // HubSpot's record page: deals are object type 0-3; app.hubspot.com forwards EU portals.
  recordUrl(contract) {
    if (!contract.externalAccountId || !contract.externalId) return null;
    return `https://app.hubspot.com/contacts/${encodeURIComponent(contract.externalAccountId)}/record/0-3/${encodeURIComponent(contract.externalId)}`;
  },
  snapshotDetailsHtml: dealContextHtml,
  async syncStates(db, organizationId, contracts) {
    const rows = await listDealSyncStates(
      db,
      organizationId,
      contracts.flatMap((c) =>
        c.externalAccountId && c.externalId
          ? [{ portalId: c.externalAccountId, dealId: c.externalId }]
          : [],
      ),
    );
    const byDeal = new Map(rows.map((r) => [`${r.portal_id}:${r.deal_id}`, r]));
    const writeBack = await fileWriteBackProblems(
      db,
      organizationId,
      contracts.map((c) => c.id),
    );
    const states = new Map<string, ContractSyncState>();
    for (const contract of contracts) {
      const row = byDeal.get(`${contract.externalAccountId ?? ''}:${contract.externalId ?? ''}`);
      if (!row) continue;
      states.set(contract.id, {
        state: row.state,
        shownStatus: row.synced_status,
        shownSince: row.synced_at,
        sendingStatus: row.desired_status,
        lastError: row.last_error,
        updatedAt: row.updated_at,
        ...(writeBack.has(contract.id)
          ? { filesWriteBackProblem: writeBack.get(contract.id) }
          : {}),
      });
    }
    return states;
  },
  async retryContractSync(db, jobs, config, contract) {
    const { externalAccountId: portalId, externalId: dealId } = contract;
    if (!portalId || !dealId) return;
    await db.transaction().execute(async (trx) => {
      await enqueueDealSync(trx, jobs, {
        organizationId: contract.organizationId,
        portalId,
        dealId,
        contractId: contract.id,
        status: contract.negotiationStatus,
        contractUrl: contractUrl(config.publicBaseUrl, contract.id),
      });
    });
  },
  async retryFailedSyncs(db, jobs, organizationId) {
    await retryFailedSyncs(db, jobs, organizationId);
  },
  connectionPanel: hubspotConnectionPanel,
};
