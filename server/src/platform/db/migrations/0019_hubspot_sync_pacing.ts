import { sql, type Kysely } from 'kysely';

/**
 * The per-portal rate slot, now with pacing for background sync (issue 19). A sliding-window
 * log alone lets the sync spend a whole window in a burst; the log then replays that burst
 * every window, so for most of each window no send leaves it and an interactive call that
 * finds the window full waits seconds. The sync lane is therefore also paced by a GCRA
 * (a "virtual scheduling" token bucket): `hubspot_rate_pace.sync_tat` is the theoretical
 * time of the portal's next sync send; a sync slot is granted when now ≥ tat − tolerance,
 * and tat moves on by one interval from max(tat, now). A lane that takes its slot a little
 * late does not lose the time (the tolerance lets it catch up), and the sends, so the moments
 * a slot frees, stay evenly spread. Same rule as `decideSlot` in portal-rate-limiter.ts,
 * checked against it by a test.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table hubspot_rate_pace (
      portal_id text primary key,
      sync_tat timestamptz not null
    );
    drop function hubspot_take_rate_slot(text, text, integer, integer);
    create function hubspot_take_rate_slot(
      p_portal text, p_lane text, p_span_ms integer, p_budget integer,
      p_pace_interval_ms double precision, p_pace_tolerance_ms double precision)
    returns table (granted boolean, wait_ms integer)
    language plpgsql as $$
    declare
      v_now timestamptz;
      v_paused timestamptz;
      v_count integer;
      v_leaving timestamptz;
      v_tat timestamptz;
      v_wait integer := 0;
      v_span interval := make_interval(secs => p_span_ms / 1000.0);
      v_interval interval := make_interval(secs => p_pace_interval_ms / 1000.0);
      v_tolerance interval := make_interval(secs => p_pace_tolerance_ms / 1000.0);
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
      if v_count >= p_budget then
        -- Enough of the oldest sends must leave the window to bring the count below the budget.
        select sent_at into v_leaving from hubspot_rate_sends where portal_id = p_portal
          order by sent_at asc offset (v_count - p_budget) limit 1;
        v_wait := greatest(1, ceil(extract(epoch from (v_leaving + v_span - v_now)) * 1000)::integer);
      end if;
      if p_pace_interval_ms > 0 then
        select sync_tat into v_tat from hubspot_rate_pace where portal_id = p_portal;
        if v_tat is not null and v_now < v_tat - v_tolerance then
          v_wait := greatest(v_wait, 1,
            ceil(extract(epoch from (v_tat - v_tolerance - v_now)) * 1000)::integer);
        end if;
      end if;
      if v_wait > 0 then
        return query select false, v_wait;
        return;
      end if;
      if p_pace_interval_ms > 0 then
        insert into hubspot_rate_pace (portal_id, sync_tat)
          values (p_portal, greatest(coalesce(v_tat, v_now), v_now) + v_interval)
          on conflict (portal_id) do update set sync_tat = excluded.sync_tat;
      end if;
      insert into hubspot_rate_sends (portal_id, lane, sent_at) values (p_portal, p_lane, clock_timestamp());
      return query select true, 0;
    end $$;
  `.execute(db);
}
