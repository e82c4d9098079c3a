import { assert, describe, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { SessionId, SessionStore, StoreUnavailable, UserId } from "@parley/core"
import { PgSessionStore } from "@parley/adapters-pg"
import { ScratchDatabaseInfo, TestDatabase } from "@parley/adapters-pg/testing"
import { Cause, DateTime, Deferred, Duration, Effect, Exit, Fiber, Layer, Redacted } from "effect"
import { isSqlError } from "effect/sql/SqlError"
import { wireTap, type WireTap } from "./support/wireTap.ts"

const policy = { idleTimeout: Duration.minutes(30) }

const newUser = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const id = crypto.randomUUID()
  const phone = `+335${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`
  yield* sql`INSERT INTO subcontractors (id, phone, display_name) VALUES (${id}::uuid, ${phone}, 'Notice')`
  return UserId.make(id)
})

/** A `SessionStore` on a one-connection pool through a wire tap: a `SET` applies to every later call, and the tap sees the NOTICEs. */
const tappedStore = (tap: WireTap) =>
  Layer.fresh(PgSessionStore).pipe(Layer.provideMerge(PgClient.layer({ url: Redacted.make(tap.url), maxConnections: 1 })))

/** The NOTICE texts the server sent while `body` ran. */
const noticesDuring = <A, E, R>(tap: WireTap, body: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = tap.notices().length
    const value = yield* body
    const notices = tap.notices().slice(before)
    for (const n of notices) assert.strictEqual(n.severity, "NOTICE")
    return { value, notices: notices.map((n) => n.message) }
  })

describe("get_or_create_session's debug NOTICEs are gated by parley.debug_sessions", () => {
  layer(TestDatabase())((it) => {
    it.effect("none when the setting is unset or off; created / reused / expired (+ created) when on, for the adapter's function and the seed's RPC", () =>
      Effect.gen(function*() {
        const db = yield* ScratchDatabaseInfo
        const tap = yield* wireTap(db.url)
        yield* Effect.gen(function*() {
          const store = yield* SessionStore
          const sql = yield* PgClient.PgClient
          const t0 = DateTime.makeUnsafe(Date.now())

          // Every outcome: created, reused, expired then created; then the seed's RPC (reused).
          const everyOutcome = Effect.gen(function*() {
            const user = yield* newUser
            const created = yield* store.getOrCreateActive(user, t0, policy)
            const reused = yield* store.getOrCreateActive(user, DateTime.add(t0, { minutes: 1 }), policy)
            const replaced = yield* store.getOrCreateActive(user, DateTime.add(t0, { minutes: 40 }), policy)
            const rpc = yield* sql<{ id: string }>`SELECT get_or_create_session(${user}::uuid)::text AS id`
            assert.deepStrictEqual([created.outcome, reused.outcome, replaced.outcome], ["created", "reused", "expired_then_created"])
            assert.strictEqual(rpc[0]?.id, replaced.session.id)
            return { user, first: created.session.id, second: replaced.session.id }
          })

          const unset = yield* noticesDuring(tap, everyOutcome)
          assert.deepStrictEqual(unset.notices, [], "setting never defined: no NOTICE")

          yield* sql`SET parley.debug_sessions = on`
          const on = yield* noticesDuring(tap, everyOutcome)
          const { user, first, second } = on.value
          assert.strictEqual(on.notices.length, 5, on.notices.join("\n"))
          assert.strictEqual(on.notices[0], `parley: session ${first} created for subcontractor ${user}`)
          assert.strictEqual(on.notices[1], `parley: session ${first} reused for subcontractor ${user}`)
          assert.match(on.notices[2]!, new RegExp(`^parley: session ${first} expired for subcontractor ${user} \\(idle since .+\\)$`))
          assert.strictEqual(on.notices[3], `parley: session ${second} created for subcontractor ${user}`)
          assert.strictEqual(on.notices[4], `parley: session ${second} reused for subcontractor ${user}`)

          yield* sql`SET parley.debug_sessions = off`
          const off = yield* noticesDuring(tap, everyOutcome)
          assert.deepStrictEqual(off.notices, [], "setting off: no NOTICE")
        }).pipe(Effect.provide(tappedStore(tap)))
      }))

    it.effect("when on, a creation lost to a writer outside the function is NOTICEd, and the caller reuses the winner's row instead of failing", () =>
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        const db = yield* ScratchDatabaseInfo
        const tap = yield* wireTap(db.url)
        const user = yield* newUser
        const inserted = yield* Deferred.make<string>()
        const commit = yield* Deferred.make<void>()
        // A writer that bypasses the function (no advisory lock): its active row is inserted but not yet committed.
        const outsider = yield* sql.withTransaction(Effect.gen(function*() {
          const row = yield* sql<{ id: string }>`INSERT INTO conversation_sessions (subcontractor_id) VALUES (${user}::uuid) RETURNING id::text AS id`
          yield* Deferred.succeed(inserted, row[0]!.id)
          yield* Deferred.await(commit)
        })).pipe(Effect.forkChild)
        const winner = yield* Deferred.await(inserted)

        yield* Effect.gen(function*() {
          const store = yield* SessionStore
          const tapped = yield* PgClient.PgClient
          yield* tapped`SET parley.debug_sessions = on`
          const caller = yield* store.getOrCreateActive(user, DateTime.makeUnsafe(Date.now()), policy).pipe(Effect.forkChild)
          // The function's INSERT … ON CONFLICT now waits on the outsider's uncommitted row.
          let waiting = 0
          for (let i = 0; i < 500 && waiting === 0; i++) {
            const rows = yield* sql<{ n: number }>`
              SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%parley_get_or_create_session%'`
            waiting = rows[0]!.n
            // A real-time pause (the test clock does not move by itself).
            if (waiting === 0) yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
          }
          assert.strictEqual(waiting, 1, "the caller is blocked on the outsider's row")
          yield* Deferred.succeed(commit, undefined)
          yield* Fiber.join(outsider)
          const { value, notices } = yield* noticesDuring(tap, Fiber.join(caller))
          assert.strictEqual(value.outcome, "reused")
          assert.strictEqual(value.session.id, winner)
          assert.deepStrictEqual(notices, [
            `parley: concurrent creation for subcontractor ${user}, reading the winner`,
            `parley: session ${winner} reused for subcontractor ${user}`
          ])
        }).pipe(Effect.provide(tappedStore(tap)))
      }))
  })
})

/** The failure of `self`, checked to be exactly one typed `StoreUnavailable` and nothing else (no defect, no raw `SqlError`). */
const storeUnavailable = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(self)
    assert.isTrue(Exit.isFailure(exit), "the call failed")
    if (!Exit.isFailure(exit)) return undefined as never
    const reasons = exit.cause.reasons
    assert.strictEqual(reasons.length, 1, Cause.pretty(exit.cause))
    assert.isTrue(Cause.isFailReason(reasons[0]!), `a typed failure, not a defect: ${Cause.pretty(exit.cause)}`)
    const error = (reasons[0] as Cause.Fail<unknown>).error
    assert.isFalse(isSqlError(error), "not a raw SqlError")
    assert.instanceOf(error, StoreUnavailable)
    assert.deepStrictEqual(Object.keys(error as object).sort(), ["_tag", "operation", "transient"], "nothing of the driver's error rides along")
    assert.isUndefined((error as { readonly cause?: unknown }).cause, "not even as a cause")
    return error as StoreUnavailable
  })

describe("Postgres errors reach the core as StoreUnavailable, naming the operation", () => {
  layer(PgSessionStore.pipe(Layer.provideMerge(TestDatabase())))((it) => {
    it.effect("getOrCreateActive for a user that is not a subcontractor: foreign-key violation", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const sql = yield* PgClient.PgClient
        const stranger = crypto.randomUUID()
        // What the driver reports for this call: a foreign-key violation.
        const raw = yield* Effect.flip(sql`SELECT id FROM parley_get_or_create_session(${stranger}::uuid, interval '30 minutes', now())`)
        assert.isTrue(isSqlError(raw))
        assert.strictEqual(raw.reason._tag, "ConstraintError")
        assert.match(String((raw.reason.cause as { message?: string })?.message), /violates foreign key constraint/)
        // What the core gets from the port for the same call.
        const error = yield* storeUnavailable(store.getOrCreateActive(UserId.make(stranger), DateTime.makeUnsafe(Date.now()), policy))
        assert.strictEqual(error.operation, "sessions.getOrCreateActive")
        assert.match(error.message, /^ConstraintError \(23503\): /, "the kind of failure, told apart from an outage")
        assert.notInclude(error.message, "parley_get_or_create_session", "no SQL text")
        assert.isFalse(error.transient, "a broken constraint is not an outage: retrying cannot help")
      }))

    it.effect("findById and listByUser with an id Postgres cannot read as a uuid: invalid input syntax", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const byId = yield* storeUnavailable(store.findById(SessionId.make("not-a-uuid")))
        assert.strictEqual(byId.operation, "sessions.findById")
        const byUser = yield* storeUnavailable(store.listByUser(UserId.make("not-a-uuid")))
        assert.strictEqual(byUser.operation, "sessions.listByUser")
        assert.isFalse(byUser.transient)
      }))

    it.effect("touch, end, escalate and getOrCreateActive on a database that is gone: connection refused", () =>
      Effect.gen(function*() {
        const db = yield* ScratchDatabaseInfo
        const tap = yield* wireTap(db.url)
        yield* Effect.promise(() => tap.close()) // nothing listens on its port any more
        yield* Effect.gen(function*() {
          const store = yield* SessionStore
          const id = SessionId.make(crypto.randomUUID())
          const now = DateTime.makeUnsafe(Date.now())
          assert.strictEqual((yield* storeUnavailable(store.touch(id, now))).operation, "sessions.touch")
          assert.strictEqual((yield* storeUnavailable(store.end(id, "manual", now))).operation, "sessions.end")
          assert.strictEqual((yield* storeUnavailable(store.escalate(id, now))).operation, "sessions.escalate")
          const gone = yield* storeUnavailable(store.getOrCreateActive(UserId.make(crypto.randomUUID()), now, policy))
          assert.strictEqual(gone.operation, "sessions.getOrCreateActive")
          assert.isTrue(gone.transient, "an unreachable database is an outage: the same call may succeed once it is back")
        }).pipe(Effect.provide(Layer.fresh(PgSessionStore).pipe(Layer.provide(PgClient.layer({ url: Redacted.make(tap.url), maxConnections: 1, connectTimeout: Duration.seconds(2) })))))
      }))
  })
})
