import type { Kysely } from 'kysely';

import { contractUrl } from '../../core/contracts/contract.ts';
import {
  listOpenContractsOfAccount,
  type ImportedContract,
} from '../../core/contracts/external-records.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { enqueueDealSyncs } from '../outbox/deal-sync-outbox.ts';
import type { LexiContractStatusValue } from '../wire/status-property.ts';

/**
 * After any reconnect (a re-install of a portal that was connected, needed reconnecting or
 * was disconnected), every open contract's deal is written again through the outbox: while
 * the app could not reach the portal, or while the portal was reinstalled, the deals may
 * have lost or changed their `lexicontract_status` and link, and only writes that happened to
 * be pending would otherwise go out. Terminal contracts keep what they last wrote.
 */
const PAGE = 1000;

/** What the deal shows for a contract: its import state while importing or failed, else its status. */
export function dealStatusOf(contract: ImportedContract): LexiContractStatusValue {
  if (contract.importState === 'importing') return 'importing';
  if (contract.importState === 'failed') return 'import_failed';
  return contract.negotiationStatus;
}

/** Queues the status write of every open contract's deal; returns how many deals. */
export async function resyncOpenContracts(
  db: Kysely<DB>,
  jobs: JobQueue,
  input: { organizationId: string; portalId: string; publicBaseUrl: string },
): Promise<number> {
  // A deal with two open contracts (unusual) shows the newer one.
  const byDeal = new Map<string, ImportedContract>();
  let afterId: string | undefined;
  for (;;) {
    const page = await listOpenContractsOfAccount(db, {
      organizationId: input.organizationId,
      source: 'hubspot',
      accountId: input.portalId,
      limit: PAGE,
      ...(afterId !== undefined ? { afterId } : {}),
    });
    for (const contract of page) {
      if (!contract.externalId) continue;
      const seen = byDeal.get(contract.externalId);
      if (!seen || seen.createdAt < contract.createdAt) byDeal.set(contract.externalId, contract);
    }
    afterId = page.at(-1)?.id;
    if (page.length < PAGE) break;
  }
  if (byDeal.size === 0) return 0;
  await db.transaction().execute((trx) =>
    enqueueDealSyncs(
      trx,
      jobs,
      [...byDeal].map(([dealId, contract]) => ({
        organizationId: input.organizationId,
        portalId: input.portalId,
        dealId,
        contractId: contract.id,
        status: dealStatusOf(contract),
        contractUrl: contractUrl(input.publicBaseUrl, contract.id),
      })),
    ),
  );
  return byDeal.size;
}
