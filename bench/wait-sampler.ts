import { sql } from 'kysely';

import type { Database } from '../server/src/platform/db/database.ts';

/**
 * Diagnosis aid (BENCH_DEBUG=1): samples pg_stat_activity while a load runs and counts what
 * active backends are waiting on, with the start of their query.
 */
export function sampleWaits(db: Database): { stop(): Promise<string> } {
  const counts = new Map<string, number>();
  let samples = 0;
  const state = { running: true };
  const loop = (async () => {
    while (state.running) {
      const rows = await sql<{ wait: string | null; query: string }>`
        select coalesce(wait_event_type || ':' || wait_event, 'cpu') as wait,
               left(regexp_replace(query, '\\s+', ' ', 'g'), 70) as query
          from pg_stat_activity
         where state = 'active' and pid <> pg_backend_pid() and backend_type = 'client backend'`.execute(
        db,
      );
      samples += 1;
      for (const r of rows.rows) {
        const key = `${r.wait ?? 'cpu'} | ${r.query}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      state.running = false;
      await loop;
      return [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, n]) => `      ${(n / samples).toFixed(2)} backends avg  ${k}`)
        .join('\n');
    },
  };
}
