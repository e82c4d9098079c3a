-- Restores the state before 0003: no RPC. (A deployment that had the seed's
-- own function restores it from its own migrations.)
DROP FUNCTION IF EXISTS get_or_create_session(uuid, interval);
DROP FUNCTION IF EXISTS parley_get_or_create_session(uuid, interval, timestamptz);
