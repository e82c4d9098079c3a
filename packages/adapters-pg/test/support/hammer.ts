// A separate OS process with its own pool, hammering get-or-create for the
// given users through the adapter, in rounds that start together across
// processes: before each round it prints {"ready": round} and waits for a "go"
// line on stdin (the parent's barrier), then makes its calls with
// now = start + round × step, and prints {"round": round, "results": [[user,
// session id, outcome], …], "errors": [message, …]}. With step past the idle
// timeout, every round after the first races on expire-and-create.
//
// argv: url, users (comma-separated), calls per round, rounds, start (epoch ms), step (ms).
import { PgClient } from "@effect/sql-pg"
import { SessionStore, UserId } from "@parley/core"
import { DateTime, Duration, Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { createInterface } from "node:readline"
import { PgSessionStore } from "../../src/PgSessionStore.ts"

const [url, usersArg, callsArg, roundsArg, startArg, stepArg] = process.argv.slice(2)
const users = usersArg!.split(",").map((u) => UserId.make(u))
const calls = Number(callsArg)
const rounds = Number(roundsArg ?? 1)
const start = Number(startArg ?? Date.now())
const step = Number(stepArg ?? 0)
const policy = { idleTimeout: Duration.minutes(30) }
const poolSize = 8

const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + "\n")

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const runtime = ManagedRuntime.make(PgSessionStore.pipe(Layer.provideMerge(PgClient.layer({ url: Redacted.make(url!), maxConnections: poolSize }))))

const round = (r: number) =>
  Effect.gen(function*() {
    const store = yield* SessionStore
    const now = DateTime.makeUnsafe(start + r * step)
    const results = yield* Effect.forEach(
      Array.from({ length: calls }, (_, i) => users[i % users.length]!),
      (user) => Effect.result(store.getOrCreateActive(user, now, policy)),
      { concurrency: 16 }
    )
    return {
      round: r,
      results: results.flatMap((x) => (x._tag === "Success" ? [[x.success.session.userId, x.success.session.id, x.success.outcome]] : [])),
      errors: results.flatMap((x) => (x._tag === "Failure" ? [`${x.failure._tag}: ${x.failure.message}`] : []))
    }
  })

const main = async () => {
  // Open the whole pool before the first round, so the rounds race on the database, not on connecting.
  await runtime.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    yield* Effect.forEach(Array.from({ length: poolSize }), () => sql`SELECT pg_sleep(0.01)`, { concurrency: poolSize, discard: true })
  }))
  for (let r = 0; r < rounds; r++) {
    print({ ready: r })
    const go = await lines.next()
    if (go.done === true) throw new Error("the parent closed stdin")
    print(await runtime.runPromise(round(r)))
  }
  await runtime.dispose()
}

main().then(() => process.exit(0), (e) => {
  print({ fatal: String(e) })
  process.exit(1)
})
