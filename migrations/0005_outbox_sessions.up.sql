-- A tap on a button or list row answers one of our replies (Meta's
-- `context.id`, Twilio's `OriginalRepliedMessageSid`): the outbox keeps each
-- reply's session, and the provider's id once sent, so the tap carries the
-- session its list was shown in.
ALTER TABLE outbox ADD COLUMN session_id uuid REFERENCES conversation_sessions (id);
CREATE INDEX outbox_by_provider_message_id ON outbox (provider_message_id) WHERE provider_message_id IS NOT NULL;
