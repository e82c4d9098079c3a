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
const decodeOutcomeRow = Schema.decodeUnknownEffect(Schema.Struct({
  ...SessionRow.fields,
  outcome: Schema.Literals(["reused", "created", "expired_then_created"]),
  expired_id: Schema.NullOr(Schema.String)
}))

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
 * `SessionStore` on Postgres. `getOrCreateActive` is one call of
 * `parley_get_or_create_session` (migration 0003): one statement, one round
 * trip, atomic under READ COMMITTED for any number of concurrent callers, with
 * the partial unique index as the last line of defence.
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

    getOrCreateActive: (userId, now, policy) =>
      sql.unsafe(
        `SELECT ${columns}, outcome, expired_id::text AS expired_id
         FROM parley_get_or_create_session($1::uuid, $2::interval, $3::timestamptz)`,
        [userId, `${Duration.toMillis(policy.idleTimeout)} milliseconds`, DateTime.toDateUtc(now)]
      ).pipe(
        Effect.flatMap((rows) => decodeOutcomeRow(rows[0])),
        Effect.map((row): GetOrCreateResult => ({
          session: toSession(row),
          outcome: row.outcome,
          ...(row.expired_id === null ? {} : { expiredSessionId: SessionId.make(row.expired_id) })
        })),
        orUnavailable("sessions.getOrCreateActive")
      ),

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
