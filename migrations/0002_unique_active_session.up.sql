-- The seed's 011: at most one active session per subcontractor, enforced by
-- the database. A database that already has duplicates (the seed's bug left
-- them behind) is repaired first: the newest active session of each user is
-- kept, the others are ended as `superseded`.
WITH ranked AS (
  SELECT id,
         row_number() OVER (PARTITION BY subcontractor_id ORDER BY last_message_at DESC, created_at DESC, id DESC) AS rank
  FROM conversation_sessions
  WHERE status = 'active'
)
UPDATE conversation_sessions s
SET status = 'ended', end_reason = 'superseded', ended_at = now()
FROM ranked
WHERE s.id = ranked.id AND ranked.rank > 1;

CREATE UNIQUE INDEX IF NOT EXISTS idx_unique_active_session_per_user
  ON conversation_sessions (subcontractor_id) WHERE status = 'active';
