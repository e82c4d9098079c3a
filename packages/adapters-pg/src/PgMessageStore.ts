import { PgClient } from "@effect/sql-pg"
import { MessageStore } from "@parley/core"
import { Effect, Layer } from "effect"
import { decodeMessageRows as decodeRows, messageColumns, toMessage } from "./MessageRows.ts"
import { orUnavailable } from "./mapSqlError.ts"

const columns = messageColumns()

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
