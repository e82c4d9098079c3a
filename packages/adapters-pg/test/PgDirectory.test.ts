import { PgClient } from "@effect/sql-pg"
import { PgWorksite } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { PhoneNumber, Subcontractor, UserId } from "@parley/core"
import { directoryContract } from "@parley/core/testing"
import { Effect, Layer } from "effect"

// A small pool: other test files hammer the same server with dozens of connections.
const ports = () => PgWorksite.pipe(Layer.provideMerge(TestDatabase({ maxConnections: 2 })))

directoryContract("postgres", {
  layer: ports(),
  newUser: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const user = new Subcontractor({
      id: UserId.make(crypto.randomUUID()),
      phone: PhoneNumber.make(`+336${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`),
      displayName: "Directory",
      locale: "fr"
    })
    yield* sql`INSERT INTO subcontractors (id, phone, display_name) VALUES (${user.id}::uuid, ${user.phone}, ${user.displayName})`
    return user
  })
})
