import { sql, type Kysely } from 'kysely';

/**
 * The per-portal rate-limit decision as one database function, so taking a slot costs one
 * round trip instead of seven. Same rule as `decideSlot` in portal-rate-limiter.ts (which
 * stays as its specification and is checked against this function by a test).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function hubspot_take_rate_slot(p_portal text, p_lane text, p_span_ms integer, p_budget integer)
    returns table (granted boolean, wait_ms integer)
    language plpgsql as $$
    declare
      v_now timestamptz;
      v_paused timestamptz;
      v_count integer;
      v_leaving timestamptz;
      v_span interval := make_interval(secs => p_span_ms / 1000.0);
    begin
      perform pg_advisory_xact_lock(hashtext('hubspot-rate:' || p_portal));
      v_now := clock_timestamp();
      select paused_until into v_paused from hubspot_rate_pauses where portal_id = p_portal;
      if v_paused is not null and v_paused > v_now then
        return query select false, greatest(1, ceil(extract(epoch from (v_paused - v_now)) * 1000)::integer);
        return;
      end if;
      delete from hubspot_rate_sends where portal_id = p_portal and sent_at <= v_now - v_span;
      select count(*) into v_count from hubspot_rate_sends where portal_id = p_portal;
      if v_count < p_budget then
        insert into hubspot_rate_sends (portal_id, lane, sent_at) values (p_portal, p_lane, clock_timestamp());
        return query select true, 0;
        return;
      end if;
      -- Enough of the oldest sends must leave the window to bring the count below the budget.
      select sent_at into v_leaving from hubspot_rate_sends where portal_id = p_portal
        order by sent_at asc offset (v_count - p_budget) limit 1;
      return query select false, greatest(1, ceil(extract(epoch from (v_leaving + v_span - v_now)) * 1000)::integer);
    end $$;
  `.execute(db);
}
