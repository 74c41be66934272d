import type { Kysely } from 'kysely';
import type { Logger } from 'pino';

import { recordAudit } from '../../core/audit/audit-log.ts';
import type { AppConfig } from '../../platform/config/runtime.ts';
import { changeContractStatus } from '../../core/contracts/contracts-service.ts';
import { InvalidStatusTransitionError } from '../../core/contracts/errors.ts';
import { findContractsByExternalRef } from '../../core/contracts/external-records.ts';
import { isTerminalStatus, type NegotiationStatus } from '../../core/contracts/status.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import {
  PortalNeedsReconnectError,
  PortalNotConnectedError,
  type HubSpotTokenDeps,
} from '../client/access-tokens.ts';
import type { LexiContractStatusValue } from '../wire/status-property.ts';
import { getHubSpotSettings } from '../legal-review/settings-store.ts';
import { contractUrl } from '../../core/contracts/contract.ts';
import { hubspotContractHooks } from '../legal-review/contract-hooks.ts';
import { enqueueDealSync } from '../outbox/deal-sync-outbox.ts';
import type { DealStageCache } from '../legal-review/pipeline-stages.ts';
import { isClosedLost } from '../legal-review/routing-rules.ts';
import { autoSendOnStageEntry } from './auto-send.ts';

/**
 * The inbound half of the status sync: a portal's stored webhook events, oldest
 * `occurredAt` first.
 *
 * - Echoes of our own writes (`changeSource: INTEGRATION`, `sourceId` = our app id) → nothing.
 * - An event older than one already processed for the same deal and property is superseded
 *   (out-of-order delivery); duplicates never reach here (unique key at intake).
 * - A rep setting `lexicontract_status` to `cancelled` cancels the deal's open contracts;
 *   any other manual value is overwritten with the true status (outbox) and audited.
 * - `dealstage` moved to a closed-lost stage → open contracts cancelled, unless the
 *   organization's closed-lost option says `do_nothing`; the deal deleted → always cancelled.
 * - Events for deals we never imported are marked and ignored, except a stage change that a
 *   routing rule "sends automatically" (`auto-send.ts`).
 */

export interface EventDeps {
  readonly db: Kysely<DB>;
  readonly jobs: JobQueue;
  readonly config: Pick<AppConfig, 'publicBaseUrl' | 'hubspot'>;
  readonly tokenDeps: HubSpotTokenDeps;
  readonly stages: DealStageCache;
  readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

interface EventRow {
  readonly id: number;
  readonly portal_id: string;
  readonly organization_id: string;
  readonly occurred_at: number;
  readonly object_id: string;
  readonly property_name: string;
  readonly subscription_type: string;
  readonly property_value: string | null;
  readonly change_source: string | null;
  readonly source_id: string | null;
}

const BATCH = 500;

interface DealContract {
  readonly id: string;
  readonly negotiationStatus: NegotiationStatus;
}

async function dealContracts(db: Kysely<DB>, event: EventRow): Promise<DealContract[]> {
  return findContractsByExternalRef(db, {
    organizationId: event.organization_id,
    source: 'hubspot',
    accountId: event.portal_id,
    externalId: event.object_id,
  });
}

function actorOf(event: EventRow): string {
  return event.source_id ? `hubspot:${event.source_id}` : `hubspot:portal:${event.portal_id}`;
}

async function cancelOpenContracts(
  deps: EventDeps,
  event: EventRow,
  contracts: readonly DealContract[],
  why: string,
): Promise<number> {
  let cancelled = 0;
  const hooks = hubspotContractHooks(deps.config, deps.jobs);
  for (const contract of contracts) {
    if (isTerminalStatus(contract.negotiationStatus)) continue;
    try {
      await changeContractStatus(
        deps.db,
        {
          organizationId: event.organization_id,
          contractId: contract.id,
          to: 'cancelled',
          source: 'hubspot_webhook',
          actor: actorOf(event),
        },
        hooks,
      );
      cancelled += 1;
    } catch (error) {
      // Decided meanwhile (a concurrent change): the decision stands.
      if (!(error instanceof InvalidStatusTransitionError)) throw error;
    }
  }
  if (cancelled > 0) {
    deps.log.info(
      { portalId: event.portal_id, dealId: event.object_id, cancelled, why },
      'contracts cancelled from HubSpot',
    );
  }
  return cancelled;
}

/** Writes the true status back over a manual edit, with an audit row. */
async function revertManualStatus(
  deps: EventDeps,
  event: EventRow,
  latest: DealContract,
): Promise<'reverted' | 'already_true'> {
  return deps.db.transaction().execute(async (trx) => {
    const outbox = await trx
      .selectFrom('hubspot_deal_sync')
      .select(['desired_status', 'desired_contract_url', 'contract_id', 'state'])
      .where('portal_id', '=', event.portal_id)
      .where('deal_id', '=', event.object_id)
      .executeTakeFirst();
    const trueStatus = (outbox?.desired_status ??
      latest.negotiationStatus) as LexiContractStatusValue;
    if (event.property_value === trueStatus) return 'already_true';
    await enqueueDealSync(trx, deps.jobs, {
      organizationId: event.organization_id,
      portalId: event.portal_id,
      dealId: event.object_id,
      contractId: outbox?.contract_id ?? latest.id,
      status: trueStatus,
      contractUrl:
        outbox?.desired_contract_url ?? contractUrl(deps.config.publicBaseUrl, latest.id),
    });
    await recordAudit(trx, {
      organizationId: event.organization_id,
      actor: actorOf(event),
      action: 'hubspot.deal_status_reverted',
      target: `hubspot:deal:${event.portal_id}:${event.object_id}`,
      outcome: 'success',
      details: {
        manual_value: event.property_value,
        restored_value: trueStatus,
        change_source: event.change_source,
        source_id: event.source_id,
        occurred_at: event.occurred_at,
      },
    });
    return 'reverted';
  });
}

async function handleEvent(deps: EventDeps, event: EventRow): Promise<string> {
  const isDeletion = event.subscription_type.endsWith('.deletion');
  if (event.change_source === 'INTEGRATION' && event.source_id === deps.config.hubspot.appId) {
    return 'echo';
  }
  if (!isDeletion && event.property_name !== '') {
    const newer = await deps.db
      .selectFrom('hubspot_webhook_events')
      .select('id')
      .where('portal_id', '=', event.portal_id)
      .where('object_id', '=', event.object_id)
      .where('property_name', '=', event.property_name)
      .where('processed_at', 'is not', null)
      .where('occurred_at', '>', event.occurred_at)
      .limit(1)
      .executeTakeFirst();
    if (newer) return 'superseded';
  }
  const contracts = await dealContracts(deps.db, event);
  const latest = contracts[0];
  if (!latest) {
    // A deal never sent: a routing rule may send it on entering this stage.
    if (event.property_name !== 'dealstage') return 'unknown_deal';
    try {
      return await autoSendOnStageEntry(deps, event);
    } catch (error) {
      if (error instanceof PortalNeedsReconnectError || error instanceof PortalNotConnectedError)
        return 'stage_unknown_not_connected';
      throw error;
    }
  }

  if (isDeletion) {
    const n = await cancelOpenContracts(deps, event, contracts, 'deal deleted');
    return n > 0 ? 'cancelled' : 'nothing_open';
  }
  if (event.property_name === 'lexicontract_status') {
    if (event.property_value === 'cancelled') {
      const n = await cancelOpenContracts(deps, event, contracts, 'status set to cancelled');
      if (n > 0) return 'cancelled';
      // Nothing left to cancel (already decided): the deal must show the true status.
    }
    return revertManualStatus(deps, event, latest);
  }
  if (event.property_name === 'dealstage') {
    if (!event.property_value) return 'ignored';
    let stage;
    try {
      stage = await deps.stages.stage(deps.tokenDeps, event.portal_id, event.property_value);
    } catch (error) {
      if (error instanceof PortalNeedsReconnectError || error instanceof PortalNotConnectedError)
        return 'stage_unknown_not_connected';
      throw error;
    }
    if (!isClosedLost(stage)) return 'ignored';
    const settings = await getHubSpotSettings(deps.db, event.organization_id);
    if (settings.closedLostBehavior === 'do_nothing') return 'closed_lost_kept';
    const n = await cancelOpenContracts(deps, event, contracts, 'deal closed lost');
    return n > 0 ? 'cancelled' : 'nothing_open';
  }
  return 'ignored';
}

/** Processes the portal's unprocessed events; returns how many it handled. */
export async function processPortalEvents(
  deps: EventDeps,
  portalId: string,
  signal: AbortSignal,
): Promise<number> {
  let handled = 0;
  for (;;) {
    signal.throwIfAborted();
    const events = await deps.db
      .selectFrom('hubspot_webhook_events')
      .select([
        'id',
        'portal_id',
        'organization_id',
        'occurred_at',
        'object_id',
        'property_name',
        'subscription_type',
        'property_value',
        'change_source',
        'source_id',
      ])
      .where('portal_id', '=', portalId)
      .where('processed_at', 'is', null)
      .orderBy('occurred_at')
      .orderBy('id')
      .limit(BATCH)
      .execute();
    if (events.length === 0) return handled;
    // Only the newest unprocessed event per deal and property matters; older ones in the
    // same batch are superseded by it.
    const newest = new Map<string, number>();
    for (const e of events) {
      if (e.property_name !== '') newest.set(`${e.object_id}:${e.property_name}`, e.id);
    }
    for (const event of events) {
      signal.throwIfAborted();
      const key = `${event.object_id}:${event.property_name}`;
      const outcome =
        event.property_name !== '' &&
        newest.get(key) !== event.id &&
        !(event.change_source === 'INTEGRATION' && event.source_id === deps.config.hubspot.appId)
          ? 'superseded'
          : await handleEvent(deps, event);
      await deps.db
        .updateTable('hubspot_webhook_events')
        .set({ processed_at: new Date(), outcome })
        .where('id', '=', event.id)
        .execute();
      handled += 1;
    }
  }
}
