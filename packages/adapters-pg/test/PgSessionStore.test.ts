import { PgClient } from "@effect/sql-pg"
import { UserId } from "@parley/core"
import { sessionStoreContract } from "@parley/core/testing"
import { PgSessionStore } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { Effect, Layer } from "effect"

/** A real subcontractor row per user: sessions reference it. */
const newUser = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const id = crypto.randomUUID()
  const phone = `+336${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`
  yield* sql`INSERT INTO subcontractors (id, phone, display_name) VALUES (${id}::uuid, ${phone}, 'Test')`
  return UserId.make(id)
}).pipe(Effect.orDie)

const layer = PgSessionStore.pipe(Layer.provideMerge(TestDatabase({ maxConnections: 16 })))

sessionStoreContract("postgres", {
  layer,
  newUser,
  numRuns: 40,
  timeout: 240_000
})
