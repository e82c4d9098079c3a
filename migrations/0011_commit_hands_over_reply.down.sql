DROP FUNCTION parley_commit_turn(bigint, uuid, timestamptz, uuid, boolean, jsonb, jsonb, text, text, timestamptz, timestamptz);
