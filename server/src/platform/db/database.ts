import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

import type { DB } from './schema.ts';

// int8 (bigserial ids, byte sizes) as JS numbers: every value we store stays far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Database = Kysely<DB>;

export interface DatabaseHandle {
  readonly db: Database;
  readonly pool: pg.Pool;
  destroy(): Promise<void>;
}

export function createDatabase(
  connectionString: string,
  options: { maxConnections?: number; applicationName?: string } = {},
): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'lexicontract-hubspot',
    // Fail fast when the server is unreachable instead of hanging a request.
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection (e.g. Postgres restarting) must not crash the
  // process; the pool replaces it on the next checkout.
  pool.on('error', () => undefined);
  // The pool's own listener is off a client while it is checked out (a Kysely query or
  // transaction): a connection dying then would emit an unheard 'error', an uncaught
  // exception that ends the process. The statement rejects with the same error, and the pool
  // drops the dead client on release, so the listener has nothing else to do.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    async destroy() {
      await db.destroy();
    },
  };
}
