import type { ContractStatusHooks } from '../core/contracts/contracts-service.ts';
import type { Contract } from '../core/contracts/contract.ts';
import type { AppConfig } from '../platform/config/runtime.ts';
import type { JobQueue } from '../platform/jobs/queue.ts';
import type { CrmAdapter } from './port.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The registered CRM adapters (`app.ts` lists them). */
    crm: CrmRegistry;
  }
}

/** The CRM adapters of this deployment, looked up by integration id or by contract. */
export class CrmRegistry {
  readonly adapters: readonly CrmAdapter[];
  private readonly byId: ReadonlyMap<string, CrmAdapter>;

  constructor(adapters: readonly CrmAdapter[]) {
    const byId = new Map<string, CrmAdapter>();
    for (const adapter of adapters) {
      if (byId.has(adapter.id)) throw new Error(`CRM adapter ${adapter.id} is registered twice`);
      byId.set(adapter.id, adapter);
    }
    this.adapters = adapters;
    this.byId = byId;
  }

  get(id: string): CrmAdapter | undefined {
    return this.byId.get(id);
  }

  /** The adapter a contract came from, if it came from a CRM. */
  forContract(contract: Pick<Contract, 'externalSource'>): CrmAdapter | undefined {
    return contract.externalSource === null ? undefined : this.byId.get(contract.externalSource);
  }

  /**
   * Every adapter's contract hooks as one: each status change goes to the adapter its
   * contract came from, inside the change's transaction.
   */
  contractHooks(config: AppConfig, jobs: JobQueue): ContractStatusHooks {
    const hooks = new Map(this.adapters.map((a) => [a.id, a.contractHooks(config, jobs)]));
    return {
      async onStatusChanged(trx, change) {
        const source = change.contract.externalSource;
        const hook = source === null ? undefined : hooks.get(source);
        await hook?.onStatusChanged?.(trx, change);
      },
    };
  }
}
