import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { Inbox } from "@parley/core"
import { inboxChannel, listenConnected, PgMessaging } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { Duration, Effect, Layer, Metric, Option, Schedule } from "effect"

/** The backends holding `LISTEN parley_inbox` in this database (the listener's connection). */
const listeners = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const rows = yield* sql<{ pid: number }>`
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND query ILIKE 'LISTEN%parley_inbox%' AND pid <> pg_backend_pid()`
  return rows.map((r) => r.pid)
})

/** Polls `check` until it returns a value, up to `seconds` (a liveness bound, not a timing claim). */
const eventually = <A>(check: Effect.Effect<A | undefined, unknown, PgClient.PgClient>, seconds: number) =>
  check.pipe(
    Effect.flatMap((value) => (value === undefined ? Effect.fail("not yet" as const) : Effect.succeed(value))),
    Effect.retry(Schedule.spaced(Duration.millis(100))),
    Effect.timeout(Duration.seconds(seconds))
  )

/**
 * A wake-up through LISTEN: a NOTIFY from another connection (as another
 * instance's accept sends it) while the worker's poll timeout is a whole
 * minute, so returning within 15 s means the notification woke it.
 */
const wokenByNotify = Effect.gen(function*() {
  const inbox = yield* Inbox
  const sql = yield* PgClient.PgClient
  // A wake-up kept from earlier would answer at once: take it first.
  yield* inbox.awaitWork(Duration.millis(1))
  yield* sql`SELECT pg_notify(${inboxChannel}, '')`
  return Option.isSome(yield* inbox.awaitWork(Duration.minutes(1)).pipe(Effect.as(true), Effect.timeoutOption(Duration.seconds(15))))
})

describe("LISTEN comes back after its backend is killed", () => {
  layer(PgMessaging.pipe(Layer.provideMerge(TestDatabase({ maxConnections: 6 }))), { excludeTestServices: true })((it) => {
    it.effect("pg_terminate_backend of the LISTEN connection: a new LISTEN backend appears and wakes workers again", () =>
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        const first = yield* eventually(Effect.map(listeners, (pids) => (pids.length > 0 ? pids : undefined)), 20)
        assert.isTrue(yield* wokenByNotify, "LISTEN wakes a waiting worker")

        const killed = yield* sql<{ ok: boolean }>`SELECT pg_terminate_backend(pid) AS ok FROM unnest(${first}::int[]) AS pid`
        assert.isTrue(killed.every((r) => r.ok))

        const again = yield* eventually(Effect.map(listeners, (pids) => (pids.length > 0 && pids.every((p) => !first.includes(p)) ? pids : undefined)), 30)
        assert.isAbove(again.length, 0, "LISTEN re-established on a new backend")
        yield* eventually(Effect.map(Metric.value(listenConnected), (s) => (s.value === 1 ? true : undefined)), 10)
        assert.isTrue(yield* wokenByNotify, "and it wakes workers again")
      }))
  })
})
