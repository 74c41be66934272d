import { sql, type Kysely } from 'kysely';

/**
 * Coalescing of the deal-sync outbox over time:
 * - `pending_since`: since when the row's desired value has waited to be sent (set when the
 *   row becomes pending after a sync, and again when a worker claims it). The worker only
 *   claims rows that have been quiet for the batching window (`updated_at`) or have waited
 *   longer than the maximum delay (`pending_since`), so repeated changes of a deal merge
 *   into one write while a deal that keeps changing is still sent within a bound.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table hubspot_deal_sync add column pending_since timestamptz;
    update hubspot_deal_sync set pending_since = updated_at;
    alter table hubspot_deal_sync
      alter column pending_since set default now(),
      alter column pending_since set not null;
  `.execute(db);
}
