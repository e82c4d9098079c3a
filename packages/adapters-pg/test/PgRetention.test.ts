import { assert, describe, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Retention } from "@parley/core"
import { PgRetention } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { Effect, Layer } from "effect"

const day = 86_400_000
const now = Date.parse("2026-12-04T00:00:00Z")
const ago = (days: number) => new Date(now - days * day)

/** Inbox and outbox rows of every state, some older than the 30-day cut, some not. */
const seed = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  let seq = 0
  const inbox = (id: string, state: string, days: number) =>
    sql`INSERT INTO inbox (provider, provider_message_id, sender, sender_seq, payload, state, available_at, accepted_at, completed_at)
        VALUES ('meta', ${id}, '+33600000001', ${++seq}, '{}'::jsonb, ${state}, ${ago(days)}, ${ago(days)}, ${state === "done" ? ago(days) : null})`
  const outbox = (id: string, state: string, days: number) =>
    sql`INSERT INTO outbox (reply_id, recipient, payload, state, available_at, created_at, sent_at)
        VALUES (${id}, '+33600000001', '{}'::jsonb, ${state}, ${ago(days)}, ${ago(days)}, ${state === "sent" ? ago(days) : null})`
  for (let i = 0; i < 7; i++) yield* inbox(`old-done-${i}`, "done", 40)
  yield* inbox("young-done", "done", 10)
  yield* inbox("old-pending", "pending", 40)
  yield* inbox("old-dead", "dead", 40)
  for (let i = 0; i < 3; i++) yield* outbox(`old-sent-${i}`, "sent", 40)
  yield* outbox("old-dead", "dead", 40)
  yield* outbox("young-sent", "sent", 10)
  yield* outbox("old-pending", "pending", 40)
})

const left = (table: "inbox" | "outbox") =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const key = table === "inbox" ? "provider_message_id" : "reply_id"
    return (yield* sql.unsafe<{ id: string }>(`SELECT ${key} AS id FROM ${table} ORDER BY 1`)).map((r) => r.id)
  })

describe("Retention on Postgres", () => {
  layer(PgRetention.pipe(Layer.provideMerge(TestDatabase({ maxConnections: 2 }))))((it) => {
    it.effect("deletes done inbox rows and sent or dead replies older than the cut, in batches of the limit; keeps pending and dead inbox rows", () =>
      Effect.gen(function*() {
        yield* seed
        const retention = yield* Retention
        const before = now - 30 * day
        assert.deepStrictEqual(
          [yield* retention.pruneInbox(before, 3), yield* retention.pruneInbox(before, 3), yield* retention.pruneInbox(before, 3)],
          [3, 3, 1],
          "at most the limit per call")
        assert.strictEqual(yield* retention.pruneInbox(before, 3), 0)
        assert.deepStrictEqual(yield* left("inbox"), ["old-dead", "old-pending", "young-done"])
        assert.strictEqual(yield* retention.pruneOutbox(before, 10), 4)
        assert.deepStrictEqual(yield* left("outbox"), ["old-pending", "young-sent"])
      }))
  })
})
