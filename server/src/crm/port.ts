import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';

import type { ContractStatusHooks } from '../core/contracts/contracts-service.ts';
import type { Contract } from '../core/contracts/contract.ts';
import type { AppConfig } from '../platform/config/runtime.ts';
import type { DB } from '../platform/db/schema.ts';
import type { SafeHtml } from '../platform/http/html.ts';
import type { JobQueue } from '../platform/jobs/queue.ts';
import type { WorkerDeps } from '../platform/jobs/worker-deps.ts';

/**
 * The CRM port: what an integration (HubSpot today) gives the product. `web/` and `api/` ask
 * the registry for these and never import an adapter; the composition roots register the
 * adapters in one list (`app.ts`).
 */
export interface CrmAdapter {
  /** The integration's id in the `integrations` catalog and `contracts.external_source`. */
  readonly id: string;
  /** Shown to people: "HubSpot". */
  readonly name: string;
  /** What its records and accounts are called on the contract page: "deal", "Portal". */
  readonly recordNoun: string;
  readonly accountNoun: string;
  /** Its inbound routes, registered under `/api/v1/integrations/<id>`. */
  readonly routes: (app: FastifyInstance, kit: CrmWebKit) => Promise<void>;
  /** Registers its job handlers and schedules in a worker process. */
  readonly startJobs: (deps: WorkerDeps) => Promise<void>;
  /**
   * Reacts to contract status changes (inside the change's transaction) for contracts whose
   * `externalSource` is this adapter's id.
   */
  readonly contractHooks: (config: AppConfig, jobs: JobQueue) => ContractStatusHooks;
  /** The sync state of each given contract (all of this adapter's source), by contract id. */
  readonly syncStates: (
    db: Kysely<DB>,
    organizationId: string,
    contracts: readonly Contract[],
  ) => Promise<ReadonlyMap<string, ContractSyncState>>;
  /** Queues the contract's status write to the CRM again ("retry now"). */
  readonly retryContractSync: (
    db: Kysely<DB>,
    jobs: JobQueue,
    config: AppConfig,
    contract: Contract,
  ) => Promise<void>;
  /** Queues every failed write of the organization again. */
  readonly retryFailedSyncs: (
    db: Kysely<DB>,
    jobs: JobQueue,
    organizationId: string,
  ) => Promise<void>;
  /** The contract's record in the CRM, to open it there (null when it has none). */
  readonly recordUrl?: (contract: Contract) => string | null;
  /**
   * What the source snapshot holds beyond the record's own fields (a deal's companies,
   * contacts and line items), readably for the contract page; null when there is nothing.
   */
  readonly snapshotDetailsHtml?: (snapshot: unknown) => SafeHtml | null;
  /** The organization's connection, for the integrations page. */
  readonly connectionPanel: (db: Kysely<DB>, organizationId: string) => Promise<ConnectionPanel>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The web layer's kit for adapter routes that render a page (set by `app.ts`). */
    crmWebKit: CrmWebKit;
  }
}

/** What the web layer lends an adapter's routes (pages in the product's layout). */
export interface CrmWebKit {
  /** A complete HTML page in the product's layout, for the few pages an adapter renders. */
  readonly page: (input: { title: string; body: SafeHtml }) => string;
}

/** How the contract's status reached the CRM record (contract pages). */
export interface ContractSyncState {
  readonly state: 'synced' | 'pending' | 'failed' | 'gone';
  /** The status the CRM record shows, once written. */
  readonly shownStatus: string | null;
  readonly shownSince: Date | null;
  /** The status on its way, while pending. */
  readonly sendingStatus: string | null;
  readonly lastError: string | null;
  readonly updatedAt: Date;
  /** Why the reviewed files did not reach the CRM record (failed or skipped write-back). */
  readonly filesWriteBackProblem?: string;
}

/** A badge or plain text in a panel. */
export interface PanelValue {
  readonly text: string;
  readonly badge?: 'ok' | 'warn' | 'bad' | 'plain';
  /** Rendered as `<code>` items (e.g. scopes). */
  readonly codes?: readonly string[];
  readonly note?: string;
}

export interface PanelFact {
  readonly label: string;
  readonly value: PanelValue;
  readonly testId?: string;
  /** A form button beside the value (e.g. "Retry setup"). */
  readonly action?: PanelAction;
}

export interface PanelAction {
  readonly label: string;
  /** A link (GET) or a CSRF-protected form post. */
  readonly kind: 'link' | 'post';
  readonly href: string;
  readonly style?: 'primary' | 'secondary' | 'danger';
  /** Asked before a post goes out. */
  readonly confirm?: string;
  readonly testId?: string;
}

export interface PanelSection {
  readonly title: string;
  readonly testId?: string;
  readonly facts: readonly PanelFact[];
  readonly table?: {
    readonly columns: readonly string[];
    readonly rows: readonly (readonly string[])[];
  };
}

/** The integrations page's card for one CRM. */
export interface ConnectionPanel {
  readonly status: 'connected' | 'needs_reconnect' | 'disconnected' | 'none';
  readonly statusLabel: string;
  /** Shown when nothing is connected yet. */
  readonly pitch: string;
  readonly warning?: string;
  readonly actions: readonly PanelAction[];
  readonly facts: readonly PanelFact[];
  readonly sections: readonly PanelSection[];
}
