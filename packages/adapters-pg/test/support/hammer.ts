// A separate OS process with its own pool, hammering get-or-create for the
// given users through the adapter. Prints one JSON line: the ids it got, its errors.
import { PgClient } from "@effect/sql-pg"
import { SessionStore, UserId } from "@parley/core"
import { DateTime, Duration, Effect, Layer, Redacted } from "effect"
import { PgSessionStore } from "../../src/PgSessionStore.ts"

const [url, usersArg, callsArg] = process.argv.slice(2)
const users = usersArg!.split(",").map((u) => UserId.make(u))
const calls = Number(callsArg)

const program = Effect.gen(function*() {
  const store = yield* SessionStore
  const now = yield* DateTime.now
  const results = yield* Effect.forEach(
    Array.from({ length: calls }, (_, i) => users[i % users.length]!),
    (user) => Effect.result(store.getOrCreateActive(user, now, { idleTimeout: Duration.minutes(30) })),
    { concurrency: 16 }
  )
  const ids = results.flatMap((r) => (r._tag === "Success" ? [[r.success.session.userId, r.success.session.id]] : []))
  const errors = results.flatMap((r) => (r._tag === "Failure" ? [r.failure.message] : []))
  process.stdout.write(JSON.stringify({ ids, errors }) + "\n")
})

program.pipe(
  Effect.provide(PgSessionStore.pipe(Layer.provide(PgClient.layer({ url: Redacted.make(url!), maxConnections: 8 })))),
  Effect.runPromise
).then(() => process.exit(0), (e) => {
  process.stdout.write(JSON.stringify({ ids: [], errors: [String(e)] }) + "\n")
  process.exit(1)
})
