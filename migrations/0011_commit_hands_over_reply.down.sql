DROP FUNCTION parley_outbox_mark_sent(text, text, timestamptz);
DROP FUNCTION parley_commit_turn(bigint, uuid, timestamptz, uuid, boolean, jsonb, jsonb, text, text, timestamptz, timestamptz);
