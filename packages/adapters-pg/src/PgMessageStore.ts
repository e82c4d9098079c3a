import { PgClient } from "@effect/sql-pg"
import { MessageMetadata, MessageStore, SessionId, StoredMessage, UserId } from "@parley/core"
import { Effect, Layer, Schema } from "effect"
import { orUnavailable } from "./mapSqlError.ts"

const MessageRow = Schema.Struct({
  id: Schema.String,
  session_id: Schema.String,
  subcontractor_id: Schema.String,
  direction: Schema.Literals(["inbound", "outbound"]),
  content: Schema.String,
  provider_message_id: Schema.NullOr(Schema.String),
  metadata: MessageMetadata,
  created_at: Schema.Date
})
const decodeRows = Schema.decodeUnknownEffect(Schema.Array(MessageRow))

const toMessage = (r: typeof MessageRow.Type) =>
  new StoredMessage({
    id: r.id,
    sessionId: SessionId.make(r.session_id),
    userId: UserId.make(r.subcontractor_id),
    direction: r.direction,
    content: r.content,
    ...(r.provider_message_id === null ? {} : { providerMessageId: r.provider_message_id }),
    metadata: r.metadata,
    createdAt: r.created_at.getTime()
  })

const columns =
  "id::text AS id, session_id::text AS session_id, subcontractor_id::text AS subcontractor_id, direction, content, provider_message_id, metadata, created_at"

/** `MessageStore` on Postgres; `recent` is an index range scan on (session_id, seq DESC), newest (last committed) first. */
export const makePgMessageStore = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  return MessageStore.of({
    append: (m) =>
      sql.unsafe(
        `INSERT INTO messages (session_id, subcontractor_id, direction, content, provider_message_id, metadata, created_at)
         VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, $7::timestamptz) RETURNING ${columns}`,
        [m.sessionId, m.userId, m.direction, m.content, m.providerMessageId ?? null, JSON.stringify(m.metadata), new Date(m.createdAt)]
      ).pipe(
        Effect.flatMap(decodeRows),
        Effect.map(([r]) => toMessage(r!)),
        orUnavailable("messages.append")
      ),
    recent: (sessionId, limit) =>
      sql.unsafe(
        `SELECT ${columns} FROM messages WHERE session_id = $1::uuid ORDER BY seq DESC LIMIT $2`,
        [sessionId, limit]
      ).pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rs) => rs.map(toMessage)),
        orUnavailable("messages.recent")
      )
  })
})

export const PgMessageStore: Layer.Layer<MessageStore, never, PgClient.PgClient> = Layer.effect(MessageStore, makePgMessageStore)
