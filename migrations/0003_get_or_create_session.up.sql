-- Atomic get-or-create of a subcontractor's active session (the seed's RPC, and
-- its 012 debugging done right).
--
-- Strategy: a transaction-scoped advisory lock on the subcontractor
-- serialises the callers of one user, then a plain read decides reuse /
-- expire / create. The INSERT keeps ON CONFLICT DO NOTHING on the partial
-- unique index as a safety net for writers that bypass this function (the
-- loop then reuses their row), so a caller never sees a unique violation, and
-- the index guarantees there is never a second active row. The lock is
-- released at commit; one statement, one round trip (counted on the wire by
-- npm run bench:sessions).
--
-- Why not the alternative, SELECT … FOR UPDATE on the active row plus
-- INSERT … ON CONFLICT (also correct)? npm run bench:sessions runs both, same
-- result columns, in rotating order; row lock ÷ advisory lock in ops/s over
-- six runs (2 shared cores, load average 5–11; tables in
-- packages/adapters-pg/README.md):
--   4 hot users, reuse:      1 caller 0.81–1.10×, 16: 0.86–1.08×, 64: 0.55–0.69×
--   10,000 users, reuse:     1 caller 0.90–1.18×, 16: 0.95–1.23×, 64: 0.92–1.08×
--   4 users, every call expires the session and creates the next:
--                            1 caller 0.92–1.08×, 16: 0.68–1.02×, 64: 0.60–0.96×
-- With 64 callers on 4 users the advisory lock is faster in every run
-- (1.45–1.8× for reuse, 1.04–1.67× with expiry) and its p99 is a third to a
-- half of the row lock's (79–182 ms against 271–421 for reuse, 126–251
-- against 321–498 with expiry), while the medians are close: its waiters
-- queue on one lock and are served in turn, where the row lock's follow the
-- row to its new version and some are served out of turn. The quieter the
-- machine, the larger the lead (at load 5–7 also 1.4–1.5× with expiry at 16
-- callers); at load 8–13 an earlier version of the benchmark had the row lock
-- 1.03–1.14× ahead with expiry at 64 callers, with the same p99 gap. Without
-- contention (spread users, single callers) the two are within the noise.
-- So the advisory lock: ahead wherever the two differ in the current
-- benchmark, a bounded tail, and one serialisation that also covers the cases
-- with no row to lock (first creation, expiry), where the row lock falls back
-- on racing the INSERT.
--
-- Idle means `now - last_message_at > timeout` (strictly), as in the core.
-- NOTICEs — session … reused, session … expired (then … created), session …
-- created, and concurrent creation … reading the winner (a writer outside this
-- function inserted first) — are raised only when `parley.debug_sessions` is
-- on (`SET parley.debug_sessions = on`), so production pays one setting
-- lookup (tested in packages/adapters-pg/test/getOrCreateSession.test.ts).
CREATE OR REPLACE FUNCTION parley_get_or_create_session(
  p_subcontractor_id uuid,
  p_idle_timeout interval,
  p_now timestamptz
) RETURNS TABLE (
  id uuid,
  subcontractor_id uuid,
  status text,
  created_at timestamptz,
  last_message_at timestamptz,
  ended_at timestamptz,
  end_reason text,
  outcome text,
  expired_id uuid
)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  v_debug boolean := coalesce(current_setting('parley.debug_sessions', true), '') IN ('on', 'true', '1');
  v_session conversation_sessions%ROWTYPE;
  v_expired uuid;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_subcontractor_id::text, 0));
  LOOP
    SELECT s.* INTO v_session
    FROM conversation_sessions s
    WHERE s.subcontractor_id = p_subcontractor_id AND s.status = 'active';

    IF FOUND THEN
      IF p_now - v_session.last_message_at <= p_idle_timeout THEN
        UPDATE conversation_sessions s
        SET last_message_at = greatest(s.last_message_at, p_now)
        WHERE s.id = v_session.id
        RETURNING s.* INTO v_session;
        IF v_debug THEN
          RAISE NOTICE 'parley: session % reused for subcontractor %', v_session.id, p_subcontractor_id;
        END IF;
        RETURN QUERY SELECT v_session.id, v_session.subcontractor_id, v_session.status, v_session.created_at,
          v_session.last_message_at, v_session.ended_at, v_session.end_reason, 'reused'::text, NULL::uuid;
        RETURN;
      END IF;
      UPDATE conversation_sessions s
      SET status = 'ended', end_reason = 'timeout', ended_at = p_now
      WHERE s.id = v_session.id;
      v_expired := v_session.id;
      IF v_debug THEN
        RAISE NOTICE 'parley: session % expired for subcontractor % (idle since %)', v_session.id, p_subcontractor_id, v_session.last_message_at;
      END IF;
    END IF;

    INSERT INTO conversation_sessions AS s (subcontractor_id, status, created_at, last_message_at)
    VALUES (p_subcontractor_id, 'active', p_now, p_now)
    ON CONFLICT (subcontractor_id) WHERE status = 'active' DO NOTHING
    RETURNING s.* INTO v_session;

    IF FOUND THEN
      IF v_debug THEN
        RAISE NOTICE 'parley: session % created for subcontractor %', v_session.id, p_subcontractor_id;
      END IF;
      RETURN QUERY SELECT v_session.id, v_session.subcontractor_id, v_session.status, v_session.created_at,
        v_session.last_message_at, v_session.ended_at, v_session.end_reason,
        CASE WHEN v_expired IS NULL THEN 'created' ELSE 'expired_then_created' END, v_expired;
      RETURN;
    END IF;
    -- A writer outside this function created it first: loop and reuse theirs.
    IF v_debug THEN
      RAISE NOTICE 'parley: concurrent creation for subcontractor %, reading the winner', p_subcontractor_id;
    END IF;
  END LOOP;
END;
$$;

-- The seed's RPC, callable from Supabase (`rpc('get_or_create_session', …)`).
CREATE OR REPLACE FUNCTION get_or_create_session(
  p_subcontractor_id uuid,
  p_idle_timeout interval DEFAULT '30 minutes'
) RETURNS uuid
LANGUAGE sql
AS $$
  SELECT id FROM parley_get_or_create_session(p_subcontractor_id, p_idle_timeout, now());
$$;
