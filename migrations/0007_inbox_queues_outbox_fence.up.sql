-- Per-user order that holds under commit races, and a fenced outbox.
--
-- Inbox. Ids are taken at INSERT but become visible at COMMIT, so "the
-- sender's lowest pending id" was not a queue head a claim could trust: a
-- later message that committed first was claimed, then the earlier one too,
-- and two messages of one user were in flight at once. Now each sender has a
-- queue row. Accepting a message locks it and takes the sender's next number
-- (`sender_seq`), so a sender's messages are numbered in commit order: a claim
-- that sees message n sees every message before it. A claim locks the queue
-- row too (queue first, then the entry, everywhere), and only the head of a
-- queue is ever leased, so one message per user is in flight at a time.
-- `ready_at` is when the head may next be claimed: its `available_at`, or the
-- end of its lease while leased; NULL when nothing is pending. A claim reads
-- the ready queues off one index and never scans other users' pending rows,
-- however long the backlog behind busy users.
CREATE TABLE inbox_queues (
  sender   text PRIMARY KEY,
  last_seq bigint NOT NULL DEFAULT 0,
  ready_at timestamptz
);
CREATE INDEX inbox_queues_ready ON inbox_queues (ready_at) WHERE ready_at IS NOT NULL;

ALTER TABLE inbox ADD COLUMN sender_seq bigint;
UPDATE inbox SET sender_seq = id;
ALTER TABLE inbox ALTER COLUMN sender_seq SET NOT NULL;
DROP INDEX inbox_pending_by_sender;
DROP INDEX inbox_pending_by_id;
CREATE INDEX inbox_pending_by_sender ON inbox (sender, sender_seq) WHERE state = 'pending';

-- When the head of `p_sender`'s queue may next be claimed (NULL: nothing pending). Call with the queue row locked.
CREATE FUNCTION parley_inbox_refresh(p_sender text) RETURNS void
LANGUAGE sql AS $$
  UPDATE inbox_queues SET ready_at = (
    SELECT GREATEST(i.available_at, i.lease_until) FROM inbox i
    WHERE i.sender = p_sender AND i.state = 'pending'
    ORDER BY i.sender_seq LIMIT 1)
  WHERE sender = p_sender
$$;

INSERT INTO inbox_queues (sender, last_seq) SELECT sender, max(sender_seq) FROM inbox GROUP BY sender;
SELECT parley_inbox_refresh(sender) FROM inbox_queues;

-- Locks the queue of an entry's sender, as a claim does (queue before entry), and returns the sender.
CREATE FUNCTION parley_inbox_lock_queue(p_id bigint) RETURNS text
LANGUAGE sql AS $$
  SELECT q.sender FROM inbox_queues q
  WHERE q.sender = (SELECT i.sender FROM inbox i WHERE i.id = p_id)
  FOR UPDATE
$$;

-- Accepts a delivery's messages ([{provider, provider_message_id, sender, payload}]), skipping
-- redeliveries; returns the ids of the new entries and notifies idle workers once.
CREATE FUNCTION parley_inbox_accept(p_messages jsonb, p_now timestamptz, p_channel text)
RETURNS TABLE (id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  m record;
  v_seq bigint;
  v_id bigint;
  v_any boolean := false;
BEGIN
  -- Senders in one order in every transaction (no deadlock between two deliveries
  -- naming the same users); a sender's messages in the order of the delivery.
  FOR m IN
    SELECT e.value->>'provider' AS provider, e.value->>'provider_message_id' AS provider_message_id,
           e.value->>'sender' AS sender, e.value->'payload' AS payload
    FROM jsonb_array_elements(p_messages) WITH ORDINALITY AS e(value, n)
    ORDER BY e.value->>'sender', e.n
  LOOP
    CONTINUE WHEN EXISTS (
      SELECT 1 FROM inbox i WHERE i.provider = m.provider AND i.provider_message_id = m.provider_message_id);
    INSERT INTO inbox_queues AS q (sender, last_seq) VALUES (m.sender, 1)
      ON CONFLICT (sender) DO UPDATE SET last_seq = q.last_seq + 1
      RETURNING q.last_seq INTO v_seq;
    v_id := NULL;
    INSERT INTO inbox (provider, provider_message_id, sender, sender_seq, payload, available_at, accepted_at)
      VALUES (m.provider, m.provider_message_id, m.sender, v_seq, m.payload, p_now, p_now)
      ON CONFLICT (provider, provider_message_id) DO NOTHING
      RETURNING inbox.id INTO v_id;
    CONTINUE WHEN v_id IS NULL;
    PERFORM parley_inbox_refresh(m.sender);
    v_any := true;
    id := v_id;
    RETURN NEXT;
  END LOOP;
  IF v_any THEN PERFORM pg_notify(p_channel, ''); END IF;
END
$$;

-- Leases the head of the longest-ready queue: the claimable entry, or nothing.
CREATE FUNCTION parley_inbox_claim(p_now timestamptz, p_lease_until timestamptz)
RETURNS TABLE (id bigint, payload jsonb, attempts integer, accepted_at timestamptz, lease_token uuid, lease_until timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_sender text;
  h record;
BEGIN
  -- A queue found not claimable gets its true ready_at, so the next round skips it.
  FOR attempt IN 1..16 LOOP
    SELECT q.sender INTO v_sender FROM inbox_queues q
    WHERE q.ready_at <= p_now
    ORDER BY q.ready_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED;
    EXIT WHEN NOT FOUND;
    SELECT i.id, i.available_at, i.lease_until INTO h FROM inbox i
    WHERE i.sender = v_sender AND i.state = 'pending'
    ORDER BY i.sender_seq LIMIT 1;
    IF NOT FOUND OR h.available_at > p_now OR h.lease_until > p_now THEN
      PERFORM parley_inbox_refresh(v_sender);
      CONTINUE;
    END IF;
    UPDATE inbox_queues SET ready_at = p_lease_until WHERE sender = v_sender;
    RETURN QUERY
      UPDATE inbox i SET lease_token = gen_random_uuid(), lease_until = p_lease_until, attempts = i.attempts + 1
      WHERE i.id = h.id
      RETURNING i.id, i.payload, i.attempts, i.accepted_at, i.lease_token, i.lease_until;
    RETURN;
  END LOOP;
END
$$;

-- Renews a live worker's lease (its token, not yet expired); returns the new end, or NULL: the lease is lost.
CREATE FUNCTION parley_inbox_extend(p_id bigint, p_token uuid, p_now timestamptz, p_lease_until timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
  v_sender text := parley_inbox_lock_queue(p_id);
BEGIN
  UPDATE inbox SET lease_until = p_lease_until
  WHERE id = p_id AND lease_token = p_token AND state = 'pending' AND lease_until >= p_now;
  IF NOT FOUND THEN RETURN NULL; END IF;
  PERFORM parley_inbox_refresh(v_sender);
  RETURN p_lease_until;
END
$$;

-- Moves a leased entry on, only while `p_token` still holds it (the fence): 'done' retires it,
-- 'retry' gives it back for `p_available_at`, 'dead' parks it, 'release' gives it back at once
-- without counting the attempt. Returns whether the token held.
CREATE FUNCTION parley_inbox_settle(p_id bigint, p_token uuid, p_outcome text, p_at timestamptz, p_available_at timestamptz, p_error text, p_channel text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  v_sender text := parley_inbox_lock_queue(p_id);
BEGIN
  UPDATE inbox SET
    lease_token = NULL,
    lease_until = NULL,
    state = CASE p_outcome WHEN 'done' THEN 'done' WHEN 'dead' THEN 'dead' ELSE 'pending' END,
    completed_at = CASE WHEN p_outcome = 'done' THEN p_at ELSE completed_at END,
    failed_at = CASE WHEN p_outcome = 'dead' THEN p_at ELSE failed_at END,
    last_error = COALESCE(p_error, last_error),
    available_at = CASE WHEN p_outcome = 'retry' THEN p_available_at ELSE available_at END,
    attempts = CASE WHEN p_outcome = 'release' THEN attempts - 1 ELSE attempts END
  WHERE id = p_id AND lease_token = p_token AND state = 'pending';
  IF NOT FOUND THEN RETURN false; END IF;
  PERFORM parley_inbox_refresh(v_sender);
  -- The user's next message is claimable now: wake an idle worker (a retry waits for its time).
  IF p_outcome IN ('dead', 'release') THEN PERFORM pg_notify(p_channel, ''); END IF;
  RETURN true;
END
$$;

-- Puts a dead entry back at the END of its user's queue, with a fresh attempt count: messages
-- processed since it died are not overtaken after the fact, and it never runs beside one in flight.
CREATE FUNCTION parley_inbox_retry_dead(p_id bigint, p_now timestamptz, p_channel text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  v_sender text := parley_inbox_lock_queue(p_id);
  v_seq bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM inbox WHERE id = p_id AND state = 'dead') THEN RETURN false; END IF;
  UPDATE inbox_queues SET last_seq = last_seq + 1 WHERE sender = v_sender RETURNING last_seq INTO v_seq;
  UPDATE inbox SET state = 'pending', attempts = 0, available_at = p_now, failed_at = NULL, sender_seq = v_seq
  WHERE id = p_id;
  PERFORM parley_inbox_refresh(v_sender);
  PERFORM pg_notify(p_channel, '');
  RETURN true;
END
$$;

-- Outbox. A claim is a lease with a token; a failure is recorded only by the claim that holds
-- the reply (a stale sender can no longer reopen or kill it), and a sent reply is final.
-- Every provider id a reply went out under is kept: a send retried after a lost
-- acknowledgement can deliver a second copy, and a tap on either copy carries the reply's session.
ALTER TABLE outbox ADD COLUMN lease_token uuid;
CREATE TABLE outbox_deliveries (
  provider_message_id text PRIMARY KEY,
  reply_id            text NOT NULL REFERENCES outbox (reply_id) ON DELETE CASCADE,
  sent_at             timestamptz NOT NULL
);
CREATE INDEX outbox_deliveries_by_reply ON outbox_deliveries (reply_id);
INSERT INTO outbox_deliveries (provider_message_id, reply_id, sent_at)
  SELECT provider_message_id, reply_id, sent_at FROM outbox
  WHERE provider_message_id IS NOT NULL AND sent_at IS NOT NULL
  ON CONFLICT DO NOTHING;
DROP INDEX outbox_by_provider_message_id;
