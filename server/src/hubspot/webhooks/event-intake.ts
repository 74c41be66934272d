import { sql, type Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { webhookEvents } from '../../platform/metrics.ts';
import type { WebhookEvent } from '../wire/index.ts';
import { processPortalEventsJob } from './job-definitions.ts';

export interface IntakeResult {
  readonly received: number;
  /** New events stored (duplicates and events of unknown portals are not). */
  readonly stored: number;
  /** Events of portals no organization is linked to (acknowledged, ignored). */
  readonly ignored: number;
  /** Events about another object type than deals (acknowledged, never stored). */
  readonly notDeal: number;
  /** Portals that got new events (their processing job should be queued). */
  readonly portals: readonly string[];
}

/** HubSpot's object type id of deals, as generic `object.*` events carry it. */
export const DEAL_OBJECT_TYPE_ID = '0-3';

/**
 * Whether an event is about a deal: a legacy `deal.*` subscription type, or a generic
 * `object.*` one whose `objectTypeId` says deal (HubSpot's changelog "Generic Webhook
 * Subscriptions": generic events name the object type only there, in raw id form such as
 * `0-1`). An event of any other type (a company, a contact, a generic event without
 * `objectTypeId`) may carry a number that is also a deal's id: it must never touch that
 * deal's contracts.
 */
export function isDealEvent(event: WebhookEvent): boolean {
  const type = event.subscriptionType ?? event.eventType ?? '';
  if (type.startsWith('deal.')) return true;
  return type.startsWith('object.') && event.objectTypeId === DEAL_OBJECT_TYPE_ID;
}

/**
 * Stores a verified webhook delivery: each event once, under HubSpot's composite identity
 * (portal, subscription, eventId, occurredAt, object, property; `eventId` alone is not
 * unique, and `attemptNumber` is left out so retries dedupe). One statement, one round trip,
 * one commit: the events travel as one JSON parameter (not ~1,100 bind parameters), the
 * portal → organization mapping is a join, and events of portals no (still linked)
 * organization owns are left out, and so are events about other object types than deals
 * (filtered here, in memory, so they cost the intake nothing). Only local writes: the caller answers 2xx after it
 * returns, and queues processing for `portals` (`EventJobTrigger`).
 */
export async function storeWebhookEvents(
  db: Kysely<DB>,
  events: readonly WebhookEvent[],
): Promise<IntakeResult> {
  const deals = events.filter(isDealEvent);
  const notDeal = events.length - deals.length;
  if (deals.length === 0)
    return { received: events.length, stored: 0, ignored: 0, notDeal, portals: [] };
  const rows = deals.map((e) => ({
    p: String(e.portalId),
    s: e.subscriptionId,
    e: e.eventId,
    o: e.occurredAt,
    id: String(e.objectId),
    n: e.propertyName ?? '',
    t: e.subscriptionType ?? e.eventType ?? 'unknown',
    v: e.propertyValue ?? null,
    c: e.changeSource ?? null,
    src: e.sourceId ?? null,
  }));
  const result = await sql<{ known: number; stored: number; portals: string[] }>`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
        p text, s bigint, e bigint, o bigint, id text, n text, t text, v text, c text, src text)
    ),
    links as (
      select external_account_id as p, organization_id
        from organization_integrations
       where integration_id = 'hubspot' and status <> 'disconnected'
         and external_account_id in (select distinct p from input)
    ),
    known as (
      select input.*, links.organization_id from input join links using (p)
    ),
    inserted as (
      insert into hubspot_webhook_events (portal_id, organization_id, subscription_id, event_id,
        occurred_at, object_id, property_name, subscription_type, property_value, change_source,
        source_id)
      select p, organization_id, s, e, o, id, n, t, v, c, src from known
      on conflict (portal_id, subscription_id, event_id, occurred_at, object_id, property_name)
        do nothing
      returning portal_id
    )
    select (select count(*) from known)::int as known,
           (select count(*) from inserted)::int as stored,
           coalesce((select array_agg(distinct portal_id) from inserted), '{}') as portals
  `.execute(db);
  const row = result.rows[0];
  const stored = row?.stored ?? 0;
  const known = row?.known ?? 0;
  webhookEvents.inc({ outcome: 'accepted' }, stored);
  webhookEvents.inc({ outcome: 'deduplicated' }, known - stored);
  webhookEvents.inc({ outcome: 'ignored' }, events.length - known);
  return {
    received: events.length,
    stored: row?.stored ?? 0,
    ignored: deals.length - (row?.known ?? 0),
    notDeal,
    portals: row?.portals ?? [],
  };
}

export interface TriggerLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Queues the processing job of portals that received events, off the request path and
 * coalesced: per portal at most one `send` in flight and one every `minIntervalMs`; a
 * trigger that arrives meanwhile is folded into the next send, which starts after it (so
 * every stored event is followed by a queued job that reads it). The job dedupes per portal
 * (one queued, one running). If a send fails or the process dies before it, the sweep
 * re-enqueues portals with events left unprocessed.
 */
export class EventJobTrigger {
  private readonly db: Kysely<DB>;
  private readonly jobs: JobQueue;
  private readonly log: TriggerLogger;
  private readonly minIntervalMs: number;
  /** Portals with a send running or scheduled → whether another send is needed after it. */
  private readonly active = new Map<string, boolean>();
  private readonly running = new Set<Promise<void>>();

  constructor(options: {
    db: Kysely<DB>;
    jobs: JobQueue;
    log: TriggerLogger;
    minIntervalMs?: number;
  }) {
    this.db = options.db;
    this.jobs = options.jobs;
    this.log = options.log;
    this.minIntervalMs = options.minIntervalMs ?? 50;
  }

  /** Call after the events of `portalIds` are committed. Never throws, never waits. */
  trigger(portalIds: readonly string[]): void {
    for (const portalId of portalIds) {
      const busy = this.active.has(portalId);
      this.active.set(portalId, true);
      if (busy) continue;
      const run = this.run(portalId);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }
  }

  /** Waits for the sends under way (e.g. before the database is closed). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private async run(portalId: string): Promise<void> {
    for (;;) {
      // Triggers from here on need a send that starts after them: this one, or the next.
      this.active.set(portalId, false);
      const started = Date.now();
      try {
        await this.jobs.send(
          this.db,
          processPortalEventsJob,
          { portalId },
          { singletonKey: portalId },
        );
      } catch (error) {
        this.log.warn(
          { err: error, portalId },
          'could not queue webhook event processing; the sweep will',
        );
      }
      if (this.active.get(portalId) !== true) {
        this.active.delete(portalId);
        return;
      }
      const wait = started + this.minIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
