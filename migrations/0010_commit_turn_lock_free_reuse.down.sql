DROP INDEX conversation_sessions_recent;
-- Back to the version of migration 0003.
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

ALTER TABLE messages ALTER COLUMN id SET DEFAULT gen_random_uuid();
DROP FUNCTION parley_uuid_v7();
DROP FUNCTION parley_commit_turn(bigint, uuid, timestamptz, uuid, boolean, jsonb, jsonb, text, text);
