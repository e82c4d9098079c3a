import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"

/**
 * The seed's deployment-guide checks, verbatim where the seed had them. The
 * server's `doctor` command and `/readyz` run these.
 */
export const sessionHealth = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  /** The partial unique index exists (the seed's `pg_indexes` check). */
  const uniqueIndexPresent = Effect.map(
    sql<{ indexname: string; indexdef: string }>`
      SELECT indexname, indexdef FROM pg_indexes
      WHERE tablename = 'conversation_sessions' AND indexname = 'idx_unique_active_session_per_user'`,
    (rows) => rows.length === 1
  )

  /** Users with more than one active session: must always be empty. */
  const duplicateActiveSessions = sql<{ subcontractor_id: string; count: number }>`
    SELECT subcontractor_id, COUNT(*) FROM conversation_sessions WHERE status='active' GROUP BY subcontractor_id HAVING COUNT(*) > 1;`

  /** Sessions created per hour over the last day (a spike means sessions are splitting). */
  const sessionsPerHour = sql<{ hour: Date; sessions_created: number }>`
    SELECT date_trunc('hour', created_at) AS hour, COUNT(*)::int AS sessions_created
    FROM conversation_sessions
    WHERE created_at > now() - interval '24 hours'
    GROUP BY 1 ORDER BY 1 DESC`

  /**
   * Recent sessions with their message counts (a tap in a session with 0
   * messages is the seed's failure). The recent sessions first, then each
   * one's messages counted off its index: the seed's form joined every message
   * before grouping (1.6 s at a million messages).
   */
  const recentSessions = (limit = 20) => sql<{ id: string; subcontractor_id: string; status: string; created_at: Date; last_message_at: Date; message_count: number }>`
    SELECT cs.id::text AS id, cs.subcontractor_id::text AS subcontractor_id, cs.status, cs.created_at, cs.last_message_at,
           (SELECT COUNT(*) FROM messages m WHERE m.session_id = cs.id)::int AS message_count
    FROM (SELECT * FROM conversation_sessions ORDER BY created_at DESC LIMIT ${limit}) cs
    ORDER BY cs.created_at DESC`

  /**
   * Users with more than one active session, for a scrape: while a valid
   * unique index on active sessions exists there can be none, so the active
   * sessions are read (the seed's query) only when it is missing or invalid.
   */
  const usersWithDuplicateActiveSessions = Effect.gen(function*() {
    const [index] = yield* sql<{ valid: boolean; def: string }>`
      SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS def
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relname = 'idx_unique_active_session_per_user'`
    const guards = index !== undefined && index.valid && /^CREATE UNIQUE INDEX .* \(subcontractor_id\) WHERE \(status = 'active'::text\)$/.test(index.def)
    return guards ? 0 : (yield* duplicateActiveSessions).length
  })

  /** Sessions of one user with message counts (the admin API). */
  const sessionsOf = (userId: string) => sql<{ id: string; status: string; created_at: Date; last_message_at: Date; ended_at: Date | null; end_reason: string | null; message_count: number }>`
    SELECT cs.id::text AS id, cs.status, cs.created_at, cs.last_message_at, cs.ended_at, cs.end_reason, COUNT(m.id)::int AS message_count
    FROM conversation_sessions cs LEFT JOIN messages m ON m.session_id = cs.id
    WHERE cs.subcontractor_id = ${userId}::uuid
    GROUP BY cs.id ORDER BY cs.created_at DESC`

  /**
   * The most sessions any one user got in the last minute. Read from the
   * database, so it covers every server instance: more than 10 means the
   * user's conversation is splitting (the seed's alert threshold).
   */
  const maxSessionsPerUserLastMinute = Effect.map(
    sql<{ n: number }>`
      SELECT coalesce(max(n), 0)::int AS n FROM (
        SELECT count(*) AS n FROM conversation_sessions
        WHERE created_at > now() - interval '1 minute'
        GROUP BY subcontractor_id
      ) per_user`,
    (rows) => rows[0]?.n ?? 0
  )

  return {
    uniqueIndexPresent,
    duplicateActiveSessions,
    usersWithDuplicateActiveSessions,
    sessionsPerHour,
    recentSessions,
    sessionsOf,
    maxSessionsPerUserLastMinute
  }
})
