-- One round trip for a turn, and time-ordered message ids.
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
