DROP INDEX IF EXISTS outbox_by_provider_message_id;
ALTER TABLE outbox DROP COLUMN IF EXISTS session_id;
