import { sql, type Kysely } from 'kysely';

import { purgeIncompleteContractFiles } from '../core/contracts/contract-files.ts';
import type { DB } from '../platform/db/schema.ts';

/**
 * How long the sweep keeps what would otherwise grow without bound (the README's Deployment
 * section lists the same numbers). Each purge deletes in batches, oldest first.
 */
export const RETENTION = {
  /** A card "send" is answered again from its row while `hubspot.fetch` or a rep repeats it. */
  cardRequestsHours: 24,
  /** Incomplete uploads (`writing` files) whose writer died; an import expires after 30 min. */
  incompleteFilesHours: 24,
  /**
   * Processed webhook events: they dedupe HubSpot's redeliveries (retried for up to a day)
   * and replays of a captured delivery; kept well past both.
   */
  processedWebhookEventsDays: 30,
  /** Web sessions and sign-in links, this long after they expired or were revoked. */
  endedSessionsHours: 24,
} as const;

const BATCH = 1_000;
/** Batches per table per sweep: the rest waits for the next sweep. */
const MAX_BATCHES = 20;

export interface RetentionCounts {
  cardRequests: number;
  incompleteFiles: number;
  processedWebhookEvents: number;
  expiredOauthStates: number;
  endedSessions: number;
  expiredSignInLinks: number;
}

async function inBatches(purge: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch += 1) {
    const deleted = await purge();
    total += deleted;
    if (deleted < BATCH) break;
  }
  return total;
}

/** Applies every retention rule once; returns how many rows each deleted. */
export async function purgeExpiredRows(db: Kysely<DB>, now = new Date()): Promise<RetentionCounts> {
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);

  const cardRequests = await inBatches(async () => {
    const cutoff = hoursAgo(RETENTION.cardRequestsHours);
    const result = await db
      .deleteFrom('hubspot_card_requests')
      .where(
        sql<boolean>`(portal_id, idempotency_key) in (
        select portal_id, idempotency_key from hubspot_card_requests
         where created_at < ${cutoff} order by created_at limit ${BATCH})`,
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  });

  const processedWebhookEvents = await inBatches(async () => {
    const cutoff = hoursAgo(RETENTION.processedWebhookEventsDays * 24);
    const result = await db
      .deleteFrom('hubspot_webhook_events')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('hubspot_webhook_events')
          .select('id')
          .where('processed_at', '<', cutoff)
          .orderBy('processed_at')
          .limit(BATCH),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  });

  // Expired install states: nothing can use them (used ones are kept until expiry too).
  const expiredOauthStates = await inBatches(async () => {
    const result = await db
      .deleteFrom('oauth_states')
      .where('state_hash', 'in', (eb) =>
        eb
          .selectFrom('oauth_states')
          .select('state_hash')
          .where('expires_at', '<', now)
          .orderBy('expires_at')
          .limit(BATCH),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  });

  const incompleteFiles = await inBatches(() =>
    purgeIncompleteContractFiles(db, hoursAgo(RETENTION.incompleteFilesHours), { limit: BATCH }),
  );

  // Sessions and sign-in links nobody can use any more (expired or revoked a day ago).
  const endedBefore = hoursAgo(RETENTION.endedSessionsHours);
  const endedSessions = await inBatches(async () => {
    const result = await db
      .deleteFrom('web_sessions')
      .where('id_hash', 'in', (eb) =>
        eb
          .selectFrom('web_sessions')
          .select('id_hash')
          .where((w) =>
            w.or([w('expires_at', '<', endedBefore), w('revoked_at', '<', endedBefore)]),
          )
          .limit(BATCH),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  });
  const expiredSignInLinks = await inBatches(async () => {
    const result = await db
      .deleteFrom('sign_in_tokens')
      .where('token_hash', 'in', (eb) =>
        eb
          .selectFrom('sign_in_tokens')
          .select('token_hash')
          .where('expires_at', '<', endedBefore)
          .limit(BATCH),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  });

  return {
    cardRequests,
    incompleteFiles,
    processedWebhookEvents,
    expiredOauthStates,
    endedSessions,
    expiredSignInLinks,
  };
}
