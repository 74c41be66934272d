import { sql, type Kysely } from 'kysely';

/**
 * Indexes for the sweep's retention purges (issue 18 item 6): processed webhook events are
 * deleted by age of processing, incomplete contract files by age, oldest first, in batches;
 * without these each batch would scan the whole table.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index hubspot_webhook_events_processed
      on hubspot_webhook_events (processed_at) where processed_at is not null;
    create index contract_files_writing
      on contract_files (created_at) where state = 'writing';
  `.execute(db);
}
