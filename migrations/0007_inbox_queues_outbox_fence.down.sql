CREATE INDEX outbox_by_provider_message_id ON outbox (provider_message_id) WHERE provider_message_id IS NOT NULL;
DROP TABLE outbox_deliveries;
ALTER TABLE outbox DROP COLUMN lease_token;

DROP FUNCTION parley_inbox_retry_dead(bigint, timestamptz, text);
DROP FUNCTION parley_inbox_settle(bigint, uuid, text, timestamptz, timestamptz, text, text);
DROP FUNCTION parley_inbox_extend(bigint, uuid, timestamptz, timestamptz);
DROP FUNCTION parley_inbox_claim(timestamptz, timestamptz);
DROP FUNCTION parley_inbox_accept(jsonb, timestamptz, text);
DROP FUNCTION parley_inbox_lock_queue(bigint);
DROP FUNCTION parley_inbox_refresh(text);

DROP INDEX inbox_pending_by_sender;
CREATE INDEX inbox_pending_by_sender ON inbox (sender, id) WHERE state = 'pending';
CREATE INDEX inbox_pending_by_id ON inbox (id) WHERE state = 'pending';
ALTER TABLE inbox DROP COLUMN sender_seq;
DROP TABLE inbox_queues;
