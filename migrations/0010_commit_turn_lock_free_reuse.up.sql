-- One round trip for a turn, time-ordered message ids, and sessions reused without a lock.
--
-- parley_commit_turn writes everything one processed message changes as one
-- statement (so one transaction, one round trip instead of BEGIN, five
-- statements and COMMIT): it retires the inbox entry while the claim's token
-- still holds it (else writes nothing and returns false), then the turn's
-- messages, the session's activity or escalation, and the replies.
CREATE FUNCTION parley_commit_turn(
  p_id bigint,
  p_token uuid,
  p_at timestamptz,
  p_session_id uuid,
  p_escalate boolean,
  p_messages jsonb,
  p_replies jsonb,
  p_inbox_channel text,
  p_outbox_channel text
) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT parley_inbox_settle(p_id, p_token, 'done', p_at, NULL, NULL, p_inbox_channel) THEN
    RETURN false;
  END IF;
  INSERT INTO messages (session_id, subcontractor_id, direction, content, provider_message_id, metadata, created_at)
  SELECT m.session_id, m.subcontractor_id, m.direction, m.content, m.provider_message_id, m.metadata, m.created_at
  FROM jsonb_to_recordset(p_messages) AS m(
    session_id uuid, subcontractor_id uuid, direction text, content text, provider_message_id text, metadata jsonb, created_at timestamptz);
  IF p_session_id IS NOT NULL THEN
    -- The session stays the one the request resolved, even if it ended meanwhile: only an active one changes.
    UPDATE conversation_sessions SET
      status = CASE WHEN p_escalate THEN 'escalated' ELSE status END,
      end_reason = CASE WHEN p_escalate THEN 'escalated' ELSE end_reason END,
      ended_at = CASE WHEN p_escalate THEN p_at ELSE ended_at END,
      last_message_at = GREATEST(last_message_at, p_at)
    WHERE id = p_session_id AND status = 'active' AND (p_escalate OR last_message_at < p_at);
  END IF;
  INSERT INTO outbox (reply_id, recipient, session_id, payload, available_at, created_at)
  SELECT r.reply_id, r.recipient, r.session_id, r.payload, p_at, p_at
  FROM jsonb_to_recordset(p_replies) AS r(reply_id text, recipient text, session_id uuid, payload jsonb)
  ON CONFLICT (reply_id) DO NOTHING;
  IF FOUND THEN PERFORM pg_notify(p_outbox_channel, ''); END IF;
  RETURN true;
END
$$;

-- Version 7 UUIDs (RFC 9562: a millisecond timestamp, then random bits) for the
-- high-volume table: each insert lands at the right edge of the primary key's
-- index instead of a random leaf, which on a large `messages` table cost about
-- four times the WAL per insert in full-page images. Postgres 18 has uuidv7();
-- this is the same layout for 15 and later.
CREATE FUNCTION parley_uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;
ALTER TABLE messages ALTER COLUMN id SET DEFAULT parley_uuid_v7();

-- parley_get_or_create_session with a lock-free reuse path: reusing the active
-- session (most calls) is one UPDATE of its row, without the advisory lock;
-- only creating or expiring a session takes the lock. An expiry re-checks
-- idleness on the row it ends, so a concurrent reuse is never ended behind its
-- back. Ahead of the seed's read-then-insert RPC in npm run bench:sessions.
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
  -- Reuse without the lock: one UPDATE of the active row, if it is not idle.
  -- Its row lock orders it against an expiry (which re-checks idleness on the
  -- row it ends, below), and the partial unique index keeps one active row.
  UPDATE conversation_sessions s
  SET last_message_at = greatest(s.last_message_at, p_now)
  WHERE s.subcontractor_id = p_subcontractor_id AND s.status = 'active' AND p_now - s.last_message_at <= p_idle_timeout
  RETURNING s.* INTO v_session;
  IF FOUND THEN
    IF v_debug THEN
      RAISE NOTICE 'parley: session % reused for subcontractor %', v_session.id, p_subcontractor_id;
    END IF;
    RETURN QUERY SELECT v_session.id, v_session.subcontractor_id, v_session.status, v_session.created_at,
      v_session.last_message_at, v_session.ended_at, v_session.end_reason, 'reused'::text, NULL::uuid;
    RETURN;
  END IF;
  -- Create or expire: callers of one user take turns.
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
      -- Still idle on the row as it is now: a lock-free reuse may have just refreshed it.
      UPDATE conversation_sessions s
      SET status = 'ended', end_reason = 'timeout', ended_at = p_now
      WHERE s.id = v_session.id AND s.status = 'active' AND p_now - s.last_message_at > p_idle_timeout;
      IF NOT FOUND THEN
        CONTINUE;
      END IF;
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

-- The newest sessions (doctor, the admin view, the per-hour and per-minute
-- checks) read off an index instead of sorting every session.
CREATE INDEX conversation_sessions_recent ON conversation_sessions (created_at DESC);
