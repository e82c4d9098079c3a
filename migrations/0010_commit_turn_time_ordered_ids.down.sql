ALTER TABLE messages ALTER COLUMN id SET DEFAULT gen_random_uuid();
DROP FUNCTION parley_uuid_v7();
DROP FUNCTION parley_commit_turn(bigint, uuid, timestamptz, uuid, boolean, jsonb, jsonb, text, text);
