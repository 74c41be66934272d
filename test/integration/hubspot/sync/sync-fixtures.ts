import type { Database } from '../../../../server/src/platform/db/database.ts';
import { createContract } from '../../../../server/src/core/contracts/contracts-service.ts';
import type { Contract } from '../../../../server/src/core/contracts/contract.ts';
import type { SandboxHandle } from '../../../../sandbox/index.ts';
import { hubspotPaths } from '../../../../server/src/hubspot/wire/api-versions.ts';

export const BATCH_PATH = hubspotPaths.dealsBatchUpdate();

/** A contract imported from a sandbox deal (as the import would create it). */
export async function hubspotContract(
  db: Database,
  input: { organizationId: string; portalId: string; dealId: string; title?: string },
): Promise<Contract> {
  return createContract(db, {
    organizationId: input.organizationId,
    title: input.title ?? `Deal ${input.dealId}`,
    externalSource: 'hubspot',
    externalId: input.dealId,
    externalAccountId: input.portalId,
    createdBySource: 'hubspot_workflow',
    actor: `hubspot:portal:${input.portalId}`,
  });
}

/** Batch-update calls the sandbox saw for a portal (optionally since a time). */
export function batchCalls(sandbox: SandboxHandle, portalId: string, since?: number) {
  return sandbox.control
    .requestLog(since === undefined ? {} : { since })
    .filter((e) => e.path === BATCH_PATH && e.portalId === Number(portalId));
}

export function status429(sandbox: SandboxHandle, portalId: string): number {
  return sandbox.control
    .requestLog()
    .filter((e) => e.status === 429 && e.portalId === Number(portalId) && !e.fault).length;
}
