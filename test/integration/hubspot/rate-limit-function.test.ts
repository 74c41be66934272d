import { randomBytes } from 'node:crypto';

import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import {
  decideSlot,
  DEFAULT_RATE_LIMIT_POLICY,
  syncPace,
  tryTakeSlot,
  type RateLane,
} from '../../../server/src/hubspot/client/portal-rate-limiter.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';

const database = await createTestDatabase();
const policy = DEFAULT_RATE_LIMIT_POLICY;
const span = policy.windowMs + policy.marginMs;
const toleranceMs = Math.round(syncPace(policy).toleranceMs);

/**
 * Sends (age in ms before now, lane) that stay clear of the window's and the sync pace's
 * edges, so both clocks agree.
 */
const send = fc.record({
  age: fc.oneof(
    fc.integer({ min: 0, max: span - 300 }),
    fc.integer({ min: span + 300, max: span * 2 }),
  ),
  lane: fc.constantFrom<RateLane>('sync', 'interactive'),
});

describe('the database rate-slot function follows decideSlot', () => {
  it('grants, refuses and computes the wait exactly as the specification does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(send, { maxLength: 130 }),
        fc.constantFrom<RateLane>('sync', 'interactive'),
        fc.option(fc.integer({ min: 500, max: 5_000 }), { nil: undefined }),
        // The sync pace's next theoretical send, relative to now, clear of the tolerance edge.
        fc.option(
          fc.oneof(
            fc.integer({ min: -5_000, max: toleranceMs - 150 }),
            fc.integer({ min: toleranceMs + 150, max: 3_000 }),
          ),
          { nil: undefined },
        ),
        async (sends, lane, pausedForMs, tatInMs) => {
          const portalId = String(randomBytes(4).readUInt32BE(0));
          const { rows } = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(
            database.db,
          );
          const nowMs = (rows[0]?.now ?? new Date()).getTime();
          if (sends.length > 0) {
            await database.db
              .insertInto('hubspot_rate_sends')
              .values(
                sends.map((s) => ({
                  portal_id: portalId,
                  lane: s.lane,
                  sent_at: new Date(nowMs - s.age),
                })),
              )
              .execute();
          }
          if (pausedForMs !== undefined) {
            await database.db
              .insertInto('hubspot_rate_pauses')
              .values({
                portal_id: portalId,
                paused_until: new Date(nowMs + pausedForMs),
                reason: 'test',
              })
              .execute();
          }
          if (tatInMs !== undefined) {
            await database.db
              .insertInto('hubspot_rate_pace')
              .values({ portal_id: portalId, sync_tat: new Date(nowMs + tatInMs) })
              .execute();
          }
          const expected = decideSlot(
            nowMs,
            sends
              .map((s) => ({ time: nowMs - s.age, lane: s.lane }))
              .sort((x, y) => x.time - y.time),
            lane,
            policy,
            pausedForMs === undefined ? undefined : nowMs + pausedForMs,
            tatInMs === undefined ? undefined : nowMs + tatInMs,
          );
          const actual = await tryTakeSlot(database.db, portalId, lane, policy);
          expect(actual.granted).toBe(expected.granted);
          // Both read the clock a few ms apart.
          expect(Math.abs(actual.waitMs - expected.waitMs)).toBeLessThanOrEqual(250);
          const recorded = await database.db
            .selectFrom('hubspot_rate_sends')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('portal_id', '=', portalId)
            .where('sent_at', '>', new Date(nowMs - 100))
            .executeTakeFirstOrThrow();
          // A granted slot is recorded; a refusal records nothing.
          expect(recorded.n).toBe(
            sends.filter((s) => s.age < 100).length + (expected.granted ? 1 : 0),
          );
          // A granted sync slot moves the pace on exactly as the specification does.
          if (expected.syncTatMs !== undefined) {
            const pace = await database.db
              .selectFrom('hubspot_rate_pace')
              .select('sync_tat')
              .where('portal_id', '=', portalId)
              .executeTakeFirstOrThrow();
            expect(Math.abs(pace.sync_tat.getTime() - expected.syncTatMs)).toBeLessThanOrEqual(250);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
