import { PgClient } from "@effect/sql-pg"
import { maskPhone } from "@parley/core"
import { Effect } from "effect"

/** One broken invariant, with the first offending rows (at most five), phone numbers masked. */
export interface Violation {
  readonly invariant: "two active sessions for one user" | "two messages of one user in flight" | "a message processed twice" | "an accepted message not processed" | "unique index missing"
  readonly count: number
  readonly rows: ReadonlyArray<string>
}

/**
 * Which rows the polls read: the hammer's own users (by the marker it gave
 * them), or every user (`doctor --watch`). `since` bounds the message scan of
 * a production database to what the watch could have seen.
 */
export type PollScope =
  | { readonly _tag: "Marked"; readonly marker: string }
  | { readonly _tag: "All"; readonly since: Date }

const firstRows = 5

/**
 * The invariants, as read-only queries any number of times a second:
 * - never two `active` sessions of one user (the seed's check, with the rows);
 * - never two messages of one user in flight: in flight means the inbox row
 *   is leased — `state = 'pending' AND lease_until > now()` — whatever claim
 *   query produced the lease;
 * - a message is processed once: one inbound `messages` row per provider id
 *   (for `All`, among the messages of sessions active since `since`).
 */
export const invariantPolls = (scope: PollScope) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    // The scope as a condition on a column holding a user's id or phone number.
    const ofScope = (column: string, key: "id" | "phone") =>
      scope._tag === "Marked"
        ? sql`${sql.literal(column)} IN (SELECT ${sql.literal(key)} FROM subcontractors WHERE display_name = ${scope.marker})`
        : sql.literal("TRUE")

    const duplicateActiveSessions = Effect.map(
      sql<{ user_id: string; active: number; sessions: string }>`
        SELECT cs.subcontractor_id::text AS user_id, count(*)::int AS active,
               string_agg(cs.id::text || ' (created ' || to_char(cs.created_at AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') || ')', ', ' ORDER BY cs.created_at) AS sessions
        FROM conversation_sessions cs
        WHERE cs.status = 'active' AND ${ofScope("cs.subcontractor_id", "id")}
        GROUP BY cs.subcontractor_id HAVING count(*) > 1
        ORDER BY 1`,
      (rows): ReadonlyArray<Violation> => rows.length === 0 ? [] : [{
        invariant: "two active sessions for one user",
        count: rows.length,
        rows: rows.slice(0, firstRows).map((r) => `user ${r.user_id}: ${r.active} active sessions: ${r.sessions}`)
      }]
    )

    const messagesInFlight = Effect.map(
      sql<{ sender: string; in_flight: number; entries: string }>`
        SELECT i.sender, count(*)::int AS in_flight, string_agg(i.id::text, ', ' ORDER BY i.id) AS entries
        FROM inbox i
        WHERE i.state = 'pending' AND i.lease_until > now() AND ${ofScope("i.sender", "phone")}
        GROUP BY i.sender HAVING count(*) > 1
        ORDER BY 1`,
      (rows): ReadonlyArray<Violation> => rows.length === 0 ? [] : [{
        invariant: "two messages of one user in flight",
        count: rows.length,
        rows: rows.slice(0, firstRows).map((r) => `sender ${maskPhone(r.sender)}: ${r.in_flight} leased inbox entries: ${r.entries}`)
      }]
    )

    const since = scope._tag === "All" ? scope.since : new Date(0)
    const processedTwice = Effect.map(
      sql<{ provider_message_id: string; stored: number; sessions: string }>`
        SELECT m.provider_message_id, count(*)::int AS stored, string_agg(DISTINCT m.session_id::text, ', ') AS sessions
        FROM messages m
        WHERE m.direction = 'inbound' AND m.provider_message_id IS NOT NULL AND m.created_at >= ${since}
          -- Through the sessions, so both lookups use an index (messages has none on user or time).
          AND m.session_id IN (
            SELECT cs.id FROM conversation_sessions cs
            WHERE cs.last_message_at >= ${since} AND ${ofScope("cs.subcontractor_id", "id")})
        GROUP BY m.provider_message_id HAVING count(*) > 1
        ORDER BY 1`,
      (rows): ReadonlyArray<Violation> => rows.length === 0 ? [] : [{
        invariant: "a message processed twice",
        count: rows.length,
        rows: rows.slice(0, firstRows).map((r) => `message ${r.provider_message_id}: stored ${r.stored} times, in session(s) ${r.sessions}`)
      }]
    )

    /** Every poll at once, in one round of statements. */
    const all = Effect.map(
      Effect.all([duplicateActiveSessions, messagesInFlight, processedTwice], { concurrency: 1 }),
      (found) => found.flat()
    )
    return { duplicateActiveSessions, messagesInFlight, processedTwice, all }
  })
