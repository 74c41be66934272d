import type { Kysely } from 'kysely';

import type { DB } from './schema.ts';

/**
 * Runs `work` in a transaction, joining the caller's when `db` already is one, so a use case
 * commits together with whatever its caller is doing (e.g. a status change and its outbox
 * row) or on its own when called alone.
 */
export async function inTransaction<T>(
  db: Kysely<DB>,
  work: (trx: Kysely<DB>) => Promise<T>,
): Promise<T> {
  if (db.isTransaction) return work(db);
  return db.transaction().execute(work);
}
