import type { Kysely } from 'kysely';

import type { DB } from '../../db/schema.ts';
import type { JobQueue } from '../../jobs/queue.ts';
import type { WebhookEvent } from '../shapes/index.ts';
import { processPortalEventsJob } from '../sync/job-definitions.ts';

export interface IntakeResult {
  readonly received: number;
  /** New events stored (duplicates and events of unknown portals are not). */
  readonly stored: number;
  /** Events of portals no organization is linked to (acknowledged, ignored). */
  readonly ignored: number;
}

/**
 * Stores a verified webhook delivery: each event once, under HubSpot's composite identity
 * (portal, subscription, eventId, occurredAt, object, property; `eventId` alone is not
 * unique, and `attemptNumber` is left out so retries dedupe), and one processing job per
 * portal, all in one transaction. Only local writes: the caller answers 2xx after commit.
 */
export async function storeWebhookEvents(
  db: Kysely<DB>,
  jobs: JobQueue,
  events: readonly WebhookEvent[],
): Promise<IntakeResult> {
  if (events.length === 0) return { received: 0, stored: 0, ignored: 0 };
  const portals = [...new Set(events.map((e) => String(e.portalId)))];
  const links = await db
    .selectFrom('organization_integrations')
    .select(['external_account_id', 'organization_id'])
    .where('integration_id', '=', 'hubspot')
    .where('external_account_id', 'in', portals)
    .where('status', '!=', 'disconnected')
    .execute();
  const orgOf = new Map(links.map((l) => [l.external_account_id ?? '', l.organization_id]));
  const known = events.filter((e) => orgOf.has(String(e.portalId)));
  if (known.length === 0) return { received: events.length, stored: 0, ignored: events.length };

  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('hubspot_webhook_events')
      .values(
        known.map((e) => ({
          portal_id: String(e.portalId),
          organization_id: orgOf.get(String(e.portalId)) ?? '',
          subscription_id: e.subscriptionId,
          event_id: e.eventId,
          occurred_at: e.occurredAt,
          object_id: String(e.objectId),
          property_name: e.propertyName ?? '',
          subscription_type: e.subscriptionType ?? e.eventType ?? 'unknown',
          property_value: e.propertyValue ?? null,
          change_source: e.changeSource ?? null,
          source_id: e.sourceId ?? null,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns([
            'portal_id',
            'subscription_id',
            'event_id',
            'occurred_at',
            'object_id',
            'property_name',
          ])
          .doNothing(),
      )
      .returning('portal_id')
      .execute();
    for (const portalId of new Set(inserted.map((r) => r.portal_id))) {
      await jobs.send(trx, processPortalEventsJob, { portalId }, { singletonKey: portalId });
    }
    return {
      received: events.length,
      stored: inserted.length,
      ignored: events.length - known.length,
    };
  });
}
