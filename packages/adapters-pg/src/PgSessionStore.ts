import { PgClient } from "@effect/sql-pg"
import {
  type GetOrCreateResult,
  Session,
  SessionId,
  type SessionId as SessionIdType,
  SessionNotActive,
  SessionNotFound,
  SessionStore,
  type StoreUnavailable,
  UserId
} from "@parley/core"
import { DateTime, Duration, Effect, Layer, Option, Schema } from "effect"
import { orUnavailable } from "./mapSqlError.ts"
import { decodeMessageRows, messageColumns, toMessage } from "./MessageRows.ts"

/** A `conversation_sessions` row as the wire client returns it. */
const SessionRow = Schema.Struct({
  id: Schema.String,
  subcontractor_id: Schema.String,
  status: Schema.Literals(["active", "ended", "escalated"]),
  created_at: Schema.Date,
  last_message_at: Schema.Date,
  ended_at: Schema.NullOr(Schema.Date),
  end_reason: Schema.NullOr(Schema.Literals(["timeout", "escalated", "superseded", "manual"]))
})
type SessionRow = typeof SessionRow.Type

const decodeRow = Schema.decodeUnknownEffect(SessionRow)
const OutcomeRow = Schema.Struct({
  ...SessionRow.fields,
  outcome: Schema.Literals(["reused", "created", "expired_then_created"]),
  expired_id: Schema.NullOr(Schema.String)
})
const decodeOutcomeRow = Schema.decodeUnknownEffect(OutcomeRow)

/** The session in a row of the session-with-messages statement: its `s_` columns, unprefixed. */
const sessionOf = (row: Record<string, unknown>) => ({
  id: row.s_id,
  subcontractor_id: row.s_subcontractor_id,
  status: row.s_status,
  created_at: row.s_created_at,
  last_message_at: row.s_last_message_at,
  ended_at: row.s_ended_at,
  end_reason: row.s_end_reason,
  outcome: row.s_outcome,
  expired_id: row.s_expired_id
})

const toSession = (row: SessionRow): Session =>
  new Session({
    id: SessionId.make(row.id),
    userId: UserId.make(row.subcontractor_id),
    status: row.status,
    startedAt: DateTime.fromDateUnsafe(row.created_at),
    lastMessageAt: DateTime.fromDateUnsafe(row.last_message_at),
    endedAt: Option.map(Option.fromNullOr(row.ended_at), DateTime.fromDateUnsafe),
    endReason: Option.fromNullOr(row.end_reason)
  })

const columns = "id::text AS id, subcontractor_id::text AS subcontractor_id, status, created_at, last_message_at, ended_at, end_reason"

/**
 * `parley_get_or_create_session($1 user, $2 idle timeout, $3 now)` and the
 * resolved session's `$4` newest messages, in one statement: the function
 * runs once (a function scan is read once) and a lateral join reads the
 * messages of the session it returned. One row per message, newest first,
 * with the session's columns repeated beside it, prefixed `s_`; one row with
 * null message columns when the session has none. Also the SQL-only
 * baseline's statement in `npm run bench:e2e`.
 */
export const getOrCreateSessionWithRecentSql = `
  SELECT s.id::text AS s_id, s.subcontractor_id::text AS s_subcontractor_id, s.status AS s_status,
         s.created_at AS s_created_at, s.last_message_at AS s_last_message_at, s.ended_at AS s_ended_at,
         s.end_reason AS s_end_reason, s.outcome AS s_outcome, s.expired_id::text AS s_expired_id,
         ${messageColumns("m")}
  FROM parley_get_or_create_session($1::uuid, $2::interval, $3::timestamptz) s
  LEFT JOIN LATERAL (
    SELECT * FROM messages WHERE messages.session_id = s.id ORDER BY messages.seq DESC LIMIT $4
  ) m ON true
  ORDER BY m.seq DESC`

/**
 * `SessionStore` on Postgres. `getOrCreateActive` is one call of
 * `parley_get_or_create_session` (migrations 0003, 0010): one statement, one
 * round trip, atomic under READ COMMITTED for any number of concurrent
 * callers, with the partial unique index as the last line of defence. Asked
 * for `recent` messages, the same statement reads them (a lateral join on the
 * session it returns): the pipeline's session and context in one round trip.
 */
export const makePgSessionStore = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  const one = (operation: string, id: SessionIdType, rows: ReadonlyArray<unknown>): Effect.Effect<Session, SessionNotFound | StoreUnavailable> =>
    rows[0] === undefined
      ? Effect.fail(new SessionNotFound({ sessionId: id }))
      : decodeRow(rows[0]).pipe(Effect.map(toSession), orUnavailable(operation))

  const findById = (id: SessionIdType): Effect.Effect<Session, SessionNotFound | StoreUnavailable> =>
    sql.unsafe(`SELECT ${columns} FROM conversation_sessions WHERE id = $1::uuid`, [id]).pipe(
      orUnavailable("sessions.findById"),
      Effect.flatMap((rows) => one("sessions.findById", id, rows))
    )

  /** Updates an active session; tells "no such session" from "not active" only when nothing matched. */
  const updateActive = (
    operation: string,
    id: SessionIdType,
    set: string,
    params: ReadonlyArray<unknown>
  ): Effect.Effect<Session, SessionNotFound | SessionNotActive | StoreUnavailable> =>
    sql.unsafe(`UPDATE conversation_sessions SET ${set} WHERE id = $1::uuid AND status = 'active' RETURNING ${columns}`, [id, ...params]).pipe(
      orUnavailable(operation),
      Effect.flatMap((rows) =>
        rows.length > 0
          ? one(operation, id, rows)
          : Effect.flatMap(findById(id), (s) => Effect.fail(new SessionNotActive({ sessionId: id, status: s.status })))
      )
    )

  return SessionStore.of({
    findById,

    getOrCreateActive: (userId, now, policy, options) => {
      const params = [userId, `${Duration.toMillis(policy.idleTimeout)} milliseconds`, DateTime.toDateUtc(now)]
      const resultOf = (row: typeof OutcomeRow.Type): GetOrCreateResult => ({
        session: toSession(row),
        outcome: row.outcome,
        ...(row.expired_id === null ? {} : { expiredSessionId: SessionId.make(row.expired_id) })
      })
      if (options?.recent === undefined) {
        return sql.unsafe(
          `SELECT ${columns}, outcome, expired_id::text AS expired_id
           FROM parley_get_or_create_session($1::uuid, $2::interval, $3::timestamptz)`,
          params
        ).pipe(
          Effect.flatMap((rows) => decodeOutcomeRow(rows[0])),
          Effect.map(resultOf),
          orUnavailable("sessions.getOrCreateActive")
        )
      }
      return sql.unsafe(getOrCreateSessionWithRecentSql, [...params, options.recent]).pipe(
        // The session's row is repeated beside each of its recent messages (one row, message columns null, when it has none).
        Effect.flatMap((rows) =>
          Effect.all({
            session: decodeOutcomeRow(sessionOf(rows[0] as Record<string, unknown>)),
            messages: decodeMessageRows(rows[0] !== undefined && (rows[0] as Record<string, unknown>).id === null ? [] : rows)
          })
        ),
        Effect.map(({ session, messages }): GetOrCreateResult => ({ ...resultOf(session), recent: messages.map(toMessage) })),
        orUnavailable("sessions.getOrCreateActive")
      )
    },

    touch: (id, now) =>
      updateActive("sessions.touch", id, "last_message_at = greatest(last_message_at, $2::timestamptz)", [DateTime.toDateUtc(now)]),

    end: (id, reason, now) =>
      updateActive("sessions.end", id, "status = 'ended', end_reason = $2, ended_at = $3::timestamptz", [reason, DateTime.toDateUtc(now)]),

    escalate: (id, now) =>
      updateActive("sessions.escalate", id, "status = 'escalated', end_reason = 'escalated', ended_at = $2::timestamptz", [DateTime.toDateUtc(now)]),

    listByUser: (userId) =>
      sql.unsafe(`SELECT ${columns} FROM conversation_sessions WHERE subcontractor_id = $1::uuid ORDER BY created_at DESC, id DESC`, [userId]).pipe(
        Effect.flatMap(Effect.forEach((row) => Effect.map(decodeRow(row), toSession))),
        orUnavailable("sessions.listByUser")
      )
  })
})

export const PgSessionStore: Layer.Layer<SessionStore, never, PgClient.PgClient> = Layer.effect(SessionStore, makePgSessionStore)
