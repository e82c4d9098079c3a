import { PgClient } from "@effect/sql-pg"
import { resolveSession, UserId } from "@parley/core"
import { handoffContract, outboxContract } from "@parley/core/testing"
import { PgMessaging, PgSessionStore } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { Effect, Layer } from "effect"

// Small pools: other test files hammer the same server with dozens of connections.
const ports = () => Layer.mergeAll(PgMessaging, PgSessionStore).pipe(Layer.provideMerge(TestDatabase({ maxConnections: 3 })))

/** A subcontractor row and an active session of theirs: outbox replies and handoffs reference both. */
const newSession = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const userId = UserId.make(crypto.randomUUID())
  const phone = `+336${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`
  yield* sql`INSERT INTO subcontractors (id, phone, display_name) VALUES (${userId}::uuid, ${phone}, 'Contract')`
  const { session } = yield* resolveSession(userId)
  return { userId, sessionId: session.id }
})

outboxContract("postgres", { layer: ports(), newSession: Effect.map(newSession, (s) => s.sessionId) })
handoffContract("postgres", { layer: ports(), newSession })
