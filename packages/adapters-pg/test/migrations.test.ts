import { assert, describe, it, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { loadMigrations, makeMigrator, orUnavailable, sessionHealth, splitStatements, uniqueViolations } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { Effect, Metric } from "effect"

const tables = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const rows = yield* sql<{ tablename: string }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
  return rows.map((r) => r.tablename)
})

describe("migrations", () => {
  layer(TestDatabase({ migrateTo: 0 }))((it) => {
    it.effect("up → down → up on a scratch database, with status at each step", () =>
      Effect.gen(function*() {
        const migrator = yield* makeMigrator()
        const all = loadMigrations().map((m) => m.version)
        assert.deepStrictEqual(yield* migrator.up(), all)
        assert.includeMembers(yield* tables, ["subcontractors", "projects", "project_assignments", "tasks", "incidents", "conversation_sessions", "messages", "inbox", "outbox", "handoffs"])
        assert.isTrue((yield* migrator.status).every((s) => s.appliedAt !== undefined))
        assert.deepStrictEqual(yield* migrator.up(), [], "nothing left to apply")

        assert.deepStrictEqual(yield* migrator.down(2), all.filter((v) => v > 2).reverse(), "roll back to version 2")
        const health = yield* sessionHealth
        assert.isTrue(yield* health.uniqueIndexPresent, "version 2 keeps the index")
        const sql = yield* PgClient.PgClient
        const fn = yield* sql`SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'get_or_create_session'`
        assert.strictEqual(fn[0]?.n, 0, "the RPC is gone at version 2")

        assert.deepStrictEqual(yield* migrator.down(0), [2, 1])
        assert.deepStrictEqual(yield* tables, ["parley_migrations"])
        assert.deepStrictEqual(yield* migrator.up(), all, "and up again")
        assert.isTrue(yield* health.uniqueIndexPresent)
      }))

    it.effect("a database ahead of the code is refused with a clear message", () =>
      Effect.gen(function*() {
        const migrator = yield* makeMigrator()
        yield* migrator.up()
        const sql = yield* PgClient.PgClient
        yield* sql`INSERT INTO parley_migrations (version, name) VALUES (9999, 'from_the_future')`
        const error = yield* Effect.flip(migrator.up())
        assert.match(error.message, /does not know \(9999\)/)
        yield* sql`DELETE FROM parley_migrations WHERE version = 9999`
      }))
  })

  layer(TestDatabase({ migrateTo: 1 }))((it) => {
    it.effect("the seed's 011 repairs existing duplicates, then the index holds", () =>
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        const user = crypto.randomUUID()
        yield* sql`INSERT INTO subcontractors (id, phone, display_name) VALUES (${user}::uuid, '+33600000042', 'Dup')`
        // What the seed's race left behind: three active sessions for one user.
        for (const minutes of [30, 20, 10]) {
          yield* sql`INSERT INTO conversation_sessions (subcontractor_id, created_at, last_message_at)
                     VALUES (${user}::uuid, now() - ${minutes} * interval '1 minute', now() - ${minutes} * interval '1 minute')`
        }
        const newest = yield* sql<{ id: string }>`SELECT id::text AS id FROM conversation_sessions ORDER BY last_message_at DESC LIMIT 1`
        const health = yield* sessionHealth
        assert.strictEqual((yield* health.duplicateActiveSessions).length, 1, "the seed's check sees the duplicates")
        assert.strictEqual(yield* health.usersWithDuplicateActiveSessions, 1, "without the index, the scrape's count reads the sessions")

        const migrator = yield* makeMigrator()
        yield* migrator.up()
        assert.strictEqual((yield* health.duplicateActiveSessions).length, 0, "the seed's check returns 0 rows")
        assert.strictEqual(yield* health.usersWithDuplicateActiveSessions, 0, "with the index, none can exist")
        const rows = yield* sql<{ id: string; status: string; end_reason: string | null }>`
          SELECT id::text AS id, status, end_reason FROM conversation_sessions WHERE subcontractor_id = ${user}::uuid`
        assert.deepStrictEqual(rows.filter((r) => r.status === "active").map((r) => r.id), [newest[0]!.id], "the newest is kept")
        assert.deepStrictEqual(rows.filter((r) => r.status !== "active").map((r) => r.end_reason), ["superseded", "superseded"])
        const violation = yield* Effect.flip(sql`INSERT INTO conversation_sessions (subcontractor_id) VALUES (${user}::uuid)`)
        assert.strictEqual(violation.reason._tag, "UniqueViolation")
        assert.match(String((violation.reason.cause as { message?: string })?.message ?? ""), /idx_unique_active_session_per_user/)

        // Through the adapters' error mapping, the violation reaches the core as StoreUnavailable and is counted for the alert.
        const counted = Metric.withAttributes(uniqueViolations, { constraint: "idx_unique_active_session_per_user" })
        const before = (yield* Metric.value(counted)).count
        const mapped = yield* Effect.flip(sql`INSERT INTO conversation_sessions (subcontractor_id) VALUES (${user}::uuid)`.pipe(orUnavailable("test.insert")))
        assert.strictEqual(mapped._tag, "StoreUnavailable")
        assert.strictEqual(mapped.operation, "test.insert")
        assert.strictEqual((yield* Metric.value(counted)).count, before + 1)
      }))
  })

  layer(TestDatabase())((it) => {
    it.effect("the seed's verification and monitoring queries run against the schema", () =>
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        const user = crypto.randomUUID()
        yield* sql`INSERT INTO subcontractors (id, phone, display_name) VALUES (${user}::uuid, '+33600000043', 'Mon')`
        const session = yield* sql<{ id: string }>`SELECT get_or_create_session(${user}::uuid)::text AS id`
        yield* sql`INSERT INTO messages (session_id, subcontractor_id, direction, content) VALUES (${session[0]!.id}::uuid, ${user}::uuid, 'inbound', 'Bonjour')`
        const health = yield* sessionHealth
        assert.isTrue(yield* health.uniqueIndexPresent)
        assert.deepStrictEqual(yield* health.duplicateActiveSessions, [])
        const perHour = yield* health.sessionsPerHour
        assert.strictEqual(perHour[0]?.sessions_created, 1)
        const recent = yield* health.recentSessions(5)
        assert.deepStrictEqual(recent.map((r) => [r.id, r.message_count]), [[session[0]!.id, 1]])
        // Supabase calls the RPC with named arguments.
        const rpc = yield* sql<{ id: string }>`SELECT get_or_create_session(p_subcontractor_id => ${user}::uuid, p_idle_timeout => interval '30 minutes')::text AS id`
        assert.strictEqual(rpc[0]?.id, session[0]?.id)
      }))
  })
})

describe("splitStatements", () => {
  it("splits at top-level semicolons only", () => {
    const script = `-- a; comment\nCREATE TABLE a (b text DEFAULT ';');\n/* c; */ CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;\nSELECT "x;y" FROM a`
    assert.deepStrictEqual(splitStatements(script).length, 3)
    assert.match(splitStatements(script)[1]!, /RETURN 1; END; \$\$$/)
  })
})
