-- Fewer round trips per message (issue 15): the commit tells the worker whether
-- more work is ready, and leases the turn's reply to the committing process so
-- its sender delivers it without a claim; marking a reply sent says whether its
-- recipient has more.
--
-- This is an overload of migration 0010's parley_commit_turn (two more
-- arguments, a row instead of a boolean): instances still running the old
-- code keep calling the old one during a rolling deploy.
CREATE FUNCTION parley_commit_turn(
  p_id bigint,
  p_token uuid,
  p_at timestamptz,
  p_session_id uuid,
  p_escalate boolean,
  p_messages jsonb,
  p_replies jsonb,
  p_inbox_channel text,
  p_outbox_channel text,
  p_now timestamptz,
  p_lease_until timestamptz
) RETURNS TABLE (committed boolean, more boolean, leased_reply_id text, leased_token uuid, notified boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_recipient text := p_replies -> 0 ->> 'recipient';
  v_lease boolean := false;
  v_notified boolean := false;
  v_leased text;
  v_unleased integer;
BEGIN
  IF NOT parley_inbox_settle(p_id, p_token, 'done', p_at, NULL, NULL, p_inbox_channel) THEN
    -- Retried after its answer was lost (the connection died as it committed): if this very
    -- claim committed the turn, the reply it leased is still leased under its token, and is
    -- handed back, so the caller delivers it now instead of leaving it for its whole lease.
    -- Its lease starts again now: the caller will take a whole lease to send it and record that.
    UPDATE outbox o SET available_at = p_lease_until
    WHERE o.reply_id = p_replies -> 0 ->> 'reply_id' AND o.lease_token = p_token AND o.state = 'pending'
      AND p_lease_until IS NOT NULL
    RETURNING o.reply_id INTO v_leased;
    IF FOUND THEN
      RETURN QUERY SELECT true, true, v_leased, p_token, false;
    ELSE
      RETURN QUERY SELECT false, true, NULL::text, NULL::uuid, false;
    END IF;
    RETURN;
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
  IF v_recipient IS NOT NULL THEN
    -- A recipient's replies are committed one turn at a time, so their order
    -- in the outbox (seq) is the order they were produced in, and the check
    -- below cannot miss an earlier reply committing concurrently (a user
    -- writing by number and by business-scoped id has two inbox queues).
    PERFORM pg_advisory_xact_lock(hashtextextended('parley_outbox:' || v_recipient, 0));
    -- The first reply is leased to the caller only if it is its recipient's next one.
    v_lease := p_lease_until IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.recipient = v_recipient AND o.state = 'pending');
    WITH inserted AS (
      INSERT INTO outbox (reply_id, recipient, session_id, payload, available_at, created_at, attempts, lease_token)
      SELECT r.reply_id, r.recipient, r.session_id, r.payload,
        CASE WHEN v_lease AND r.n = 1 THEN p_lease_until ELSE p_at END, p_at,
        CASE WHEN v_lease AND r.n = 1 THEN 1 ELSE 0 END,
        -- The claim's own token fences the reply's lease (unique like any token), so a retried
        -- commit can tell the reply it leased (above).
        CASE WHEN v_lease AND r.n = 1 THEN p_token END
      FROM ROWS FROM (jsonb_to_recordset(p_replies) AS (reply_id text, recipient text, session_id uuid, payload jsonb))
        WITH ORDINALITY AS r(reply_id, recipient, session_id, payload, n)
      ORDER BY r.n
      ON CONFLICT (reply_id) DO NOTHING
      RETURNING reply_id, lease_token
    )
    SELECT max(i.reply_id) FILTER (WHERE i.lease_token IS NOT NULL), count(*) FILTER (WHERE i.lease_token IS NULL)
    INTO v_leased, v_unleased FROM inserted i;
    -- Replies behind the one leased here are claimed when it is marked sent
    -- (markSent says the recipient has more): no wake-up for them. Otherwise
    -- the senders are woken: nothing was leased (no sender in the caller's
    -- process, or no free slot in it), or the replies wait behind an earlier
    -- one, where a wake-up costs at most an empty claim.
    v_notified := v_unleased > 0 AND NOT v_lease;
    IF v_notified THEN PERFORM pg_notify(p_outbox_channel, ''); END IF;
  END IF;
  RETURN QUERY SELECT true,
    EXISTS (SELECT 1 FROM inbox_queues q WHERE q.ready_at <= p_now),
    v_leased,
    CASE WHEN v_leased IS NULL THEN NULL ELSE p_token END,
    v_notified;
END
$$;

-- A delivery recorded (see MessagingSql.markSent), and whether its recipient has another reply
-- pending. `more` is read after taking the recipient's lock that parley_commit_turn takes, in a
-- statement of its own (a fresh snapshot): a turn committed for the same recipient meanwhile is
-- either seen here (its commit held the lock first), or saw this reply sent and leased its own
-- (this held it first). A single statement's snapshot could miss both, and the reply would wait
-- for a sender's idle poll.
CREATE FUNCTION parley_outbox_mark_sent(p_reply_id text, p_provider_message_id text, p_at timestamptz)
RETURNS TABLE (first boolean, more boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_recipient text;
  v_first boolean;
BEGIN
  INSERT INTO outbox_deliveries (provider_message_id, reply_id, sent_at)
  VALUES (p_provider_message_id, p_reply_id, p_at)
  ON CONFLICT (provider_message_id) DO NOTHING;
  UPDATE outbox SET state = 'sent', provider_message_id = p_provider_message_id, sent_at = p_at, lease_token = NULL
  WHERE reply_id = p_reply_id AND state = 'pending';
  v_first := FOUND;
  SELECT o.recipient INTO v_recipient FROM outbox o WHERE o.reply_id = p_reply_id;
  IF v_recipient IS NULL THEN
    RETURN QUERY SELECT v_first, false;
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('parley_outbox:' || v_recipient, 0));
  RETURN QUERY SELECT v_first,
    EXISTS (SELECT 1 FROM outbox o WHERE o.recipient = v_recipient AND o.state = 'pending' AND o.reply_id <> p_reply_id);
END
$$;
