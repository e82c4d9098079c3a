import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { MessageStore, SessionStore, UserId } from "@parley/core"
import { sessionStoreContract } from "@parley/core/testing"
import { PgMessageStore, PgSessionStore } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { DateTime, Duration, Effect, Layer } from "effect"

/** A real subcontractor row per user: sessions reference it. */
const newUser = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const id = crypto.randomUUID()
  const phone = `+336${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`
  yield* sql`INSERT INTO subcontractors (id, phone, display_name) VALUES (${id}::uuid, ${phone}, 'Test')`
  return UserId.make(id)
}).pipe(Effect.orDie)

sessionStoreContract("postgres", {
  layer: PgSessionStore.pipe(Layer.provideMerge(TestDatabase({ maxConnections: 16 }))),
  newUser,
  numRuns: 40,
  timeout: 240_000
})

describe("getOrCreateActive with the session's recent messages, in the same statement", () => {
  layer(Layer.mergeAll(PgSessionStore, PgMessageStore).pipe(Layer.provideMerge(TestDatabase({ maxConnections: 4 }))))((it) => {
    it.effect("returns exactly what MessageStore.recent returns for the session it resolved; none for a session it created", () =>
      Effect.gen(function*() {
        const sessions = yield* SessionStore
        const messages = yield* MessageStore
        const userId = yield* newUser
        const policy = { idleTimeout: Duration.minutes(30) }
        const t0 = DateTime.makeUnsafe(1_800_000_000_000)
        const created = yield* sessions.getOrCreateActive(userId, t0, policy, { recent: 20 })
        assert.deepStrictEqual([created.outcome, created.recent], ["created", []])
        for (let i = 0; i < 25; i++) {
          yield* messages.append({
            sessionId: created.session.id,
            userId,
            direction: i % 2 === 0 ? "inbound" : "outbound",
            content: `message ${i}`,
            ...(i % 2 === 0 ? { providerMessageId: `wamid.recent.${crypto.randomUUID()}` } : {}),
            metadata: i % 2 === 0 ? { intent: "greeting" } : { reply: { _tag: "TextReply", body: `message ${i}` } },
            createdAt: 1_800_000_000_000 + i
          })
        }
        const reused = yield* sessions.getOrCreateActive(userId, DateTime.add(t0, { minutes: 1 }), policy, { recent: 20 })
        assert.strictEqual(reused.outcome, "reused")
        assert.strictEqual(reused.session.id, created.session.id)
        assert.deepStrictEqual(reused.recent, yield* messages.recent(created.session.id, 20))
        assert.strictEqual(reused.recent?.[0]?.content, "message 24", "newest first")
        const plain = yield* sessions.getOrCreateActive(userId, DateTime.add(t0, { minutes: 2 }), policy)
        assert.isUndefined(plain.recent, "not asked, not read")
        const expired = yield* sessions.getOrCreateActive(userId, DateTime.add(t0, { hours: 2 }), policy, { recent: 20 })
        assert.deepStrictEqual([expired.outcome, expired.recent], ["expired_then_created", []], "the new session's, not the expired one's")
      }))
  })
})
