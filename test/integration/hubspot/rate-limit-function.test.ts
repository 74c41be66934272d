import { randomBytes } from 'node:crypto';

import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import {
  decideSlot,
  DEFAULT_RATE_LIMIT_POLICY,
  tryTakeSlot,
  type RateLane,
} from '../../../server/src/hubspot/client/portal-rate-limiter.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';

const database = await createTestDatabase();
const policy = DEFAULT_RATE_LIMIT_POLICY;
const span = policy.windowMs + policy.marginMs;

/** Send ages (ms before now) that stay clear of the window edge, so both clocks agree. */
const age = fc.oneof(
  fc.integer({ min: 0, max: span - 300 }),
  fc.integer({ min: span + 300, max: span * 2 }),
);

describe('the database rate-slot function follows decideSlot', () => {
  it('grants, refuses and computes the wait exactly as the specification does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(age, { maxLength: 130 }),
        fc.constantFrom<RateLane>('sync', 'interactive'),
        fc.option(fc.integer({ min: 500, max: 5_000 }), { nil: undefined }),
        async (ages, lane, pausedForMs) => {
          const portalId = String(randomBytes(4).readUInt32BE(0));
          const { rows } = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(
            database.db,
          );
          const nowMs = (rows[0]?.now ?? new Date()).getTime();
          if (ages.length > 0) {
            await database.db
              .insertInto('hubspot_rate_sends')
              .values(
                ages.map((a) => ({
                  portal_id: portalId,
                  lane: 'sync',
                  sent_at: new Date(nowMs - a),
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
          const expected = decideSlot(
            nowMs,
            ages.map((a) => nowMs - a).sort((x, y) => x - y),
            lane,
            policy,
            pausedForMs === undefined ? undefined : nowMs + pausedForMs,
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
          expect(recorded.n).toBe(ages.filter((a) => a < 100).length + (expected.granted ? 1 : 0));
        },
      ),
      { numRuns: 150 },
    );
  });
});
