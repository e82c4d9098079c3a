import { assert, describe, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { SessionStore, UserId } from "@parley/core"
import { PgSessionStore, sessionHealth } from "@parley/adapters-pg"
import { ScratchDatabaseInfo, TestDatabase } from "@parley/adapters-pg/testing"
import { DateTime, Duration, Effect, Layer, Redacted } from "effect"
import { runHammers } from "./support/hammers.ts"
import { wireTap } from "./support/wireTap.ts"

const policy = { idleTimeout: Duration.minutes(30) }

const makeUsers = (n: number) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    return yield* Effect.forEach(Array.from({ length: n }), () =>
      Effect.gen(function*() {
        const id = crypto.randomUUID()
        const phone = `+337${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`
        yield* sql`INSERT INTO subcontractors (id, phone, display_name) VALUES (${id}::uuid, ${phone}, 'Hammer')`
        return UserId.make(id)
      }))
  })

/** The seed's check, verbatim. */
const duplicates = Effect.flatMap(sessionHealth, (h) => h.duplicateActiveSessions)

/** The statement `getOrCreateActive` sends, as the wire tap sees it. */
const isGetOrCreate = (sql: string) => sql.includes("parley_get_or_create_session")

describe("one active session per user under real concurrency", () => {
  layer(PgSessionStore.pipe(Layer.provideMerge(TestDatabase({ maxConnections: 8 }))))((it) => {
    it.effect("40 connections, 4 users, 6 rounds of 120 concurrent calls, each round past the idle timeout; ≥ 32 backends served the calls", () =>
      Effect.gen(function*() {
        const users = yield* makeUsers(4)
        const db = yield* ScratchDatabaseInfo
        // The hammer's own pool of 40 connections goes through a wire tap, which
        // records which backend (pid) executed each call of the function.
        const tap = yield* wireTap(db.url)
        const hammerPool = PgClient.layer({ url: Redacted.make(tap.url), maxConnections: 40 })
        const backends = yield* Effect.gen(function*() {
          const store = yield* SessionStore
          const start = yield* DateTime.now
          let calls = 0
          for (let round = 0; round < 6; round++) {
            const now = DateTime.add(start, { minutes: 31 * round })
            const results = yield* Effect.forEach(
              Array.from({ length: 120 }, (_, i) => users[i % users.length]!),
              (user) => store.getOrCreateActive(user, now, policy), // a failure fails the test: no caller sees an error
              { concurrency: "unbounded" }
            )
            calls += results.length
            for (const user of users) {
              const mine = results.filter((r) => r.session.userId === user)
              assert.strictEqual(new Set(mine.map((r) => r.session.id)).size, 1, `round ${round}: one session for the user`)
              const creators = mine.filter((r) => r.outcome !== "reused")
              assert.strictEqual(creators.length, 1, `round ${round}: exactly one caller created it`)
              assert.strictEqual(creators[0]!.outcome, round === 0 ? "created" : "expired_then_created")
            }
            assert.deepStrictEqual(yield* duplicates, [], "the seed's check returns 0 rows")
          }
          assert.strictEqual(calls, 720)
          for (const user of users) {
            const sessions = yield* store.listByUser(user)
            assert.strictEqual(sessions.length, 6)
            assert.deepStrictEqual(sessions.map((s) => s.status), ["active", "ended", "ended", "ended", "ended", "ended"])
          }
          // While the hammer's pool is still open: its backends, as the server lists them.
          const sql = yield* PgClient.PgClient
          const live = yield* sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`
          return { live: new Set(live.map((r) => r.pid)), served: tap.executionsByBackend(isGetOrCreate) }
        }).pipe(Effect.provide(Layer.fresh(PgSessionStore).pipe(Layer.provideMerge(hammerPool))))

        const perBackend = [...backends.served.values()]
        assert.strictEqual(perBackend.reduce((a, b) => a + b, 0), 720, "the tap saw every call")
        assert.isAtLeast(backends.served.size, 32, `distinct backends that executed calls: ${backends.served.size}`)
        for (const pid of backends.served.keys()) assert.isTrue(backends.live.has(pid), `backend ${pid} is one of the database's`)
      }))

    it.effect("4 OS processes, each with its own pool, race on creation and then on expire-and-create for the same 3 users, 5 rounds", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const users = yield* makeUsers(3)
        const db = yield* ScratchDatabaseInfo
        const context = yield* Effect.context<PgClient.PgClient>()
        const rounds = 5
        const checks: Array<number> = []
        const outputs = yield* Effect.promise(() =>
          runHammers({
            url: db.url,
            users,
            processes: 4,
            callsPerRound: 60,
            rounds,
            start: Date.now(),
            step: 31 * 60_000, // past the idle timeout: every round after the first expires the last one's session
            afterRound: async () => {
              checks.push((await Effect.runPromiseWith(context)(duplicates)).length)
            }
          })
        )
        assert.deepStrictEqual(checks, Array.from({ length: rounds }, () => 0), "the seed's check returns 0 rows after every round")
        assert.deepStrictEqual(outputs.flatMap((rounds) => rounds.flatMap((r) => r.errors)), [], "no caller saw an error")
        const sessionsOf = new Map<string, Array<string>>(users.map((u) => [u, []]))
        for (let round = 0; round < rounds; round++) {
          const results = outputs.flatMap((o) => o[round]!.results)
          assert.strictEqual(results.length, 4 * 60)
          for (const user of users) {
            const mine = results.filter(([u]) => u === user)
            const ids = new Set(mine.map(([, s]) => s))
            assert.strictEqual(ids.size, 1, `round ${round}: every process got the same session`)
            const creators = mine.filter(([, , outcome]) => outcome !== "reused")
            assert.strictEqual(creators.length, 1, `round ${round}: exactly one caller, in one process, created it`)
            assert.strictEqual(creators[0]![2], round === 0 ? "created" : "expired_then_created")
            sessionsOf.get(user)!.push([...ids][0]!)
          }
        }
        for (const user of users) {
          const sessions = yield* store.listByUser(user)
          assert.deepStrictEqual(sessions.map((s) => s.id), [...sessionsOf.get(user)!].reverse(), "one new session per round, newest first")
          assert.deepStrictEqual(sessions.map((s) => s.status), ["active", ...Array.from({ length: rounds - 1 }, () => "ended")])
        }
        assert.deepStrictEqual(yield* duplicates, [], "the seed's check returns 0 rows")
      }))
  })
})

/** The seed's first version: read, then insert, no lock, no atomic function. */
const naiveGetOrCreate = (user: string) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const found = yield* sql<{ id: string }>`SELECT id FROM conversation_sessions WHERE subcontractor_id = ${user}::uuid AND status = 'active'`
    if (found.length > 0) return found[0]!.id
    const created = yield* sql<{ id: string }>`INSERT INTO conversation_sessions (subcontractor_id) VALUES (${user}::uuid) RETURNING id`
    return created[0]!.id
  })

const hammerNaive = Effect.gen(function*() {
  const users = yield* makeUsers(8)
  const results = yield* Effect.forEach(
    Array.from({ length: 256 }, (_, i) => users[i % users.length]!),
    (user) => Effect.result(naiveGetOrCreate(user)),
    { concurrency: "unbounded" }
  )
  return {
    uniqueViolations: results.filter((r) => r._tag === "Failure" && r.failure.reason._tag === "UniqueViolation").length,
    duplicates: (yield* duplicates).length
  }
})

describe("the hammer can see the race: the naive select-then-insert", () => {
  layer(TestDatabase({ maxConnections: 32, migrateTo: 1 }))((it) => {
    it.effect("without the unique index, leaves users with several active sessions", () =>
      Effect.gen(function*() {
        const { duplicates: users, uniqueViolations } = yield* hammerNaive
        assert.strictEqual(uniqueViolations, 0)
        assert.isAbove(users, 0, "the seed's check finds duplicates")
      }))
  })
  layer(TestDatabase({ maxConnections: 32 }))((it) => {
    it.effect("with the unique index, makes callers fail with unique violations", () =>
      Effect.gen(function*() {
        const { duplicates: users, uniqueViolations } = yield* hammerNaive
        assert.strictEqual(users, 0, "the index holds")
        assert.isAbove(uniqueViolations, 0, "but callers see errors")
      }))
  })
})
