-- Rolling back drops the guarantee, not the data: sessions ended as
-- `superseded` stay ended.
DROP INDEX IF EXISTS idx_unique_active_session_per_user;
