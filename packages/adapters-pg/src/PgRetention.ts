import { PgClient } from "@effect/sql-pg"
import { Retention } from "@parley/core"
import { Effect, Layer } from "effect"
import { orUnavailable } from "./mapSqlError.ts"

/**
 * `Retention` on Postgres. Each call is one short DELETE of at most `limit`
 * rows; `SKIP LOCKED` keeps it out of the way of a worker or a sender holding
 * a row. Pending and dead inbox rows are never deleted (a dead one waits for
 * an operator); a dead reply is, once older than the retention.
 */
export const makePgRetention = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  return Retention.of({
    pruneInbox: (before, limit) =>
      sql<{ id: string }>`
        DELETE FROM inbox WHERE id IN (
          SELECT id FROM inbox WHERE state = 'done' AND completed_at < ${new Date(before)}
          LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING id`.pipe(Effect.map((rows) => rows.length), orUnavailable("retention.pruneInbox")),
    // A dead reply's available_at is when it was parked (markFailed sets it).
    pruneOutbox: (before, limit) =>
      sql<{ reply_id: string }>`
        DELETE FROM outbox WHERE reply_id IN (
          SELECT reply_id FROM outbox
          WHERE (state = 'sent' AND sent_at < ${new Date(before)}) OR (state = 'dead' AND available_at < ${new Date(before)})
          LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING reply_id`.pipe(Effect.map((rows) => rows.length), orUnavailable("retention.pruneOutbox"))
  })
})

export const PgRetention: Layer.Layer<Retention, never, PgClient.PgClient> = Layer.effect(Retention, makePgRetention)
