-- Durable intake, outbox and handoffs for the message pipeline.

-- One row per accepted inbound message. (provider, provider_message_id) makes
-- a redelivered webhook a no-op; `sender` orders each user's queue; a claim is
-- a lease (lease_token fences a worker whose lease was taken over).
CREATE TABLE inbox (
  id                  bigserial PRIMARY KEY,
  provider            text NOT NULL,
  provider_message_id text NOT NULL,
  sender              text NOT NULL,
  payload             jsonb NOT NULL,
  state               text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
  attempts            integer NOT NULL DEFAULT 0,
  available_at        timestamptz NOT NULL,
  lease_token         uuid,
  lease_until         timestamptz,
  last_error          text,
  failed_at           timestamptz,
  accepted_at         timestamptz NOT NULL,
  completed_at        timestamptz,
  CONSTRAINT inbox_provider_message_unique UNIQUE (provider, provider_message_id)
);
-- The claim query's two lookups: heads of pending queues, and "an older pending row of this sender".
CREATE INDEX inbox_pending_by_sender ON inbox (sender, id) WHERE state = 'pending';
CREATE INDEX inbox_pending_by_id ON inbox (id) WHERE state = 'pending';
CREATE INDEX inbox_dead ON inbox (failed_at DESC) WHERE state = 'dead';

-- Replies written in the same transaction as the turn that produced them.
CREATE TABLE outbox (
  reply_id            text PRIMARY KEY,
  seq                 bigserial NOT NULL,
  recipient           text NOT NULL,
  payload             jsonb NOT NULL,
  state               text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
  attempts            integer NOT NULL DEFAULT 0,
  available_at        timestamptz NOT NULL,
  provider_message_id text,
  last_error          text,
  created_at          timestamptz NOT NULL,
  sent_at             timestamptz
);
CREATE INDEX outbox_pending_by_recipient ON outbox (recipient, seq) WHERE state = 'pending';
CREATE INDEX outbox_pending_by_seq ON outbox (seq) WHERE state = 'pending';

-- Conversations handed to a human; one per session, listed by operators.
CREATE TABLE handoffs (
  session_id       uuid PRIMARY KEY REFERENCES conversation_sessions (id),
  subcontractor_id uuid NOT NULL REFERENCES subcontractors (id),
  display_name     text NOT NULL,
  masked_phone     text NOT NULL,
  created_at       timestamptz NOT NULL
);
CREATE INDEX handoffs_recent ON handoffs (created_at DESC);
