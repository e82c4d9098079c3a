import { assert, describe, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { SessionStore, UserId } from "@parley/core"
import { PgSessionStore, sessionHealth } from "@parley/adapters-pg"
import { ScratchDatabaseInfo, TestDatabase } from "@parley/adapters-pg/testing"
import { DateTime, Duration, Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

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

describe("one active session per user under real concurrency", () => {
  layer(PgSessionStore.pipe(Layer.provideMerge(TestDatabase({ maxConnections: 40 }))))((it) => {
    it.effect("40 connections, 4 users, 6 rounds of 120 concurrent calls, each round past the idle timeout", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const users = yield* makeUsers(4)
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
      }))

    it.effect("4 OS processes, each with its own pool, hammer the same 3 users", () =>
      Effect.gen(function*() {
        const users = yield* makeUsers(3)
        const db = yield* ScratchDatabaseInfo
        const script = fileURLToPath(new URL("./support/hammer.ts", import.meta.url))
        const run = () =>
          Effect.callback<{ ids: Array<[string, string]>; errors: Array<string> }>((resume) => {
            execFile(process.execPath, [script, db.url, users.join(","), "150"], { timeout: 60_000 }, (error, stdout, stderr) => {
              const line = stdout.trim().split("\n").at(-1) ?? ""
              try {
                resume(Effect.succeed(JSON.parse(line)))
              } catch {
                resume(Effect.die(new Error(`hammer process failed: ${error?.message} ${stderr}`)))
              }
            })
          })
        const outputs = yield* Effect.all([run(), run(), run(), run()], { concurrency: "unbounded" })
        assert.deepStrictEqual(outputs.flatMap((o) => o.errors), [], "no caller saw an error")
        const ids = outputs.flatMap((o) => o.ids)
        assert.strictEqual(ids.length, 600)
        for (const user of users) {
          assert.strictEqual(new Set(ids.filter(([u]) => u === user).map(([, s]) => s)).size, 1, "every process got the same session")
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
