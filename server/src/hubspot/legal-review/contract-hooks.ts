import type { AppConfig } from '../../platform/config/runtime.ts';
import { contractUrl } from '../../core/contracts/contract.ts';
import type { ContractStatusHooks } from '../../core/contracts/contracts-service.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { isDecision, recordDecision } from './decision-callbacks.ts';
import { enqueueTimelineNote } from './timeline-notes.ts';
import { enqueueDealSync } from '../outbox/deal-sync-outbox.ts';
import { enqueueFileWriteBack } from './file-write-back.ts';

/**
 * Connects the contract domain to HubSpot without the domain knowing HubSpot: a status
 * change of a contract imported from a HubSpot deal enqueues the deal's sync in the same
 * transaction, whatever made the change (API, web page, workflow, webhook), and a decision
 * releases the workflows waiting for it ("wait for legal decision"); an approval or a
 * signature writes the reviewed files back to the deal, and a decision goes on the deal's
 * timeline.
 */
export function hubspotContractHooks(
  config: Pick<AppConfig, 'publicBaseUrl'>,
  jobs: JobQueue,
): ContractStatusHooks {
  return {
    async onStatusChanged(trx, { contract, change }) {
      if (
        contract.externalSource !== 'hubspot' ||
        !contract.externalId ||
        !contract.externalAccountId
      )
        return;
      await enqueueDealSync(trx, jobs, {
        organizationId: contract.organizationId,
        portalId: contract.externalAccountId,
        dealId: contract.externalId,
        contractId: contract.id,
        status: contract.negotiationStatus,
        contractUrl: contractUrl(config.publicBaseUrl, contract.id),
      });
      await recordDecision(trx, jobs, {
        portalId: contract.externalAccountId,
        dealId: contract.externalId,
        contractId: contract.id,
        status: contract.negotiationStatus,
      });
      const status = contract.negotiationStatus;
      if (isDecision(status)) {
        // The decision on the deal's timeline; the job checks the setting and the scope.
        await enqueueTimelineNote(trx, jobs, {
          organizationId: contract.organizationId,
          contractId: contract.id,
          portalId: contract.externalAccountId,
          dealId: contract.externalId,
          event: { kind: 'decision', changeId: change.id },
        });
      }
      if (status === 'approved' || status === 'signed') {
        // The reviewed paper goes back to the deal; the job checks the setting and scopes.
        await enqueueFileWriteBack(trx, jobs, {
          organizationId: contract.organizationId,
          contractId: contract.id,
          portalId: contract.externalAccountId,
          dealId: contract.externalId,
          decision: status,
        });
      }
    },
  };
}
