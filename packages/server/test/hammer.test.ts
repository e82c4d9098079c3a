import { PgClient } from "@effect/sql-pg"
import { loadMigrations } from "@parley/adapters-pg"
import { createScratchDatabase } from "@parley/adapters-pg/testing"
import { Effect, Redacted } from "effect"
import { execFile, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url))
const seedFunction = readFileSync(fileURLToPath(new URL("./fixtures/seed-get-or-create-session.sql", import.meta.url)), "utf8")

type Db = Awaited<ReturnType<typeof createScratchDatabase>>
const databases: Array<Db> = []

/** `parley <args>` as an operator runs it, as its own process, against `db`. */
const parley = (db: Db, args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [cli, ...args], { env: { ...process.env, DATABASE_URL: db.url }, timeout: 100_000 }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }))
  })

const query = <A extends object>(db: Db, text: string) =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    return yield* sql.unsafe<A>(text)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(db.url), maxConnections: 1 }))))

/** A migrated scratch database with the demo's real users and a session of theirs the hammer must not touch. */
const parleyDatabase = async () => {
  const db = await createScratchDatabase()
  databases.push(db)
  assert.strictEqual((await parley(db, ["migrate", "up"])).code, 0)
  assert.strictEqual((await parley(db, ["seed-demo"])).code, 0)
  await query(db, `INSERT INTO conversation_sessions (subcontractor_id) SELECT id FROM subcontractors WHERE phone = '+33612345678'`)
  return db
}

/** Everything but the hammer's users, as a fingerprint: a run must leave it as it found it. */
const realData = (db: Db) =>
  query<{ users: number; sessions: string }>(db, `
    SELECT (SELECT count(*)::int FROM subcontractors) AS users,
           (SELECT string_agg(id::text || status || last_message_at::text, ',' ORDER BY id) FROM conversation_sessions) AS sessions`)

const leftovers = async (db: Db) =>
  (await query<{ n: number }>(db, `
    SELECT ((SELECT count(*) FROM subcontractors WHERE phone LIKE '+999%')
          + (SELECT count(*) FROM inbox WHERE sender LIKE '+999%')
         + (SELECT count(*) FROM inbox_queues WHERE sender LIKE '+999%')
          + (SELECT count(*) FROM messages m JOIN subcontractors s ON s.id = m.subcontractor_id WHERE s.phone LIKE '+999%'))::int AS n`))[0]!.n

let healthy: Db
let broken: Db

beforeAll(async () => {
  ;[healthy, broken] = await Promise.all([parleyDatabase(), parleyDatabase()])
  // The seed before its fix: no unique index, and the read-then-insert function.
  await query(broken, "DROP INDEX idx_unique_active_session_per_user")
  await query(broken, seedFunction)
})
afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()))
})

describe("parley hammer, run as a process", () => {
  it("on the seed's read-then-insert function without the unique index: exits non-zero naming the duplicate", async () => {
    const before = await realData(broken)
    const run = await parley(broken, ["hammer", "--mode", "sql", "--users", "4", "--callers", "24", "--connections", "12", "--duration", "4s", "--idle-timeout", "20ms", "--seed", "7"])
    assert.strictEqual(run.code, 1, run.stdout + run.stderr)
    assert.match(run.stdout, /^parley hammer: mode sql, 4 users, 24 callers, .*seed 7/m)
    assert.match(run.stdout, /^✗ two active sessions for one user: \d+ \(seen in \d+ poll\(s\)\); first rows:$/m)
    assert.match(run.stdout, /^ {4}user [0-9a-f-]{36}: [2-9]\d* active sessions: [0-9a-f-]{36} \(created/m)
    assert.match(run.stderr, /^parley: hammer: two active sessions for one user: user [0-9a-f-]{36}: \d+ active sessions/m)
    assert.deepStrictEqual(await realData(broken), before, "the real users' data is as it was")
    assert.strictEqual(await leftovers(broken), 0, "the hammer's users and their sessions are gone")
  })

  it("on a correct database: sql, adapter and engine modes exit 0, and leave nothing behind", { timeout: 240_000 }, async () => {
    const before = await realData(healthy)
    const sqlRun = await parley(healthy, ["hammer", "--mode", "sql", "--users", "4", "--callers", "24", "--connections", "12", "--duration", "3s", "--idle-timeout", "20ms"])
    assert.strictEqual(sqlRun.code, 0, sqlRun.stdout + sqlRun.stderr)
    assert.match(sqlRun.stdout, /^calls: [1-9]\d* in .*, \d+ ok, 0 failed; latency p50 [\d.]+ ms, p99 [\d.]+ ms$/m)
    assert.match(sqlRun.stdout, /^✓ never two active sessions per user/m)

    const adapterRun = await parley(healthy, ["hammer", "--mode", "adapter", "--users", "4", "--callers", "16", "--connections", "8", "--count", "800", "--idle-timeout", "10ms"])
    assert.strictEqual(adapterRun.code, 0, adapterRun.stdout + adapterRun.stderr)
    assert.match(adapterRun.stdout, /^calls: 800 in /m)

    const engineRun = await parley(healthy, ["hammer", "--mode", "engine", "--users", "4", "--callers", "6", "--connections", "6", "--pools", "3", "--count", "120", "--idle-timeout", "30ms", "--seed", "3"])
    assert.strictEqual(engineRun.code, 0, engineRun.stdout + engineRun.stderr)
    const engine = /^engine: (\d+) messages sent, (\d+) redelivered; inbox accepted (\d+), recognised (\d+) duplicates/m.exec(engineRun.stdout)
    assert.isNotNull(engine, engineRun.stdout)
    assert.strictEqual(Number(engine![1]), 120)
    assert.strictEqual(engine![3], engine![1], "every new message accepted once")
    assert.strictEqual(engine![4], engine![2], "every redelivery recognised")
    assert.isAbove(Number(engine![2]), 0, "the run redelivered some batches")

    assert.deepStrictEqual(await realData(healthy), before, "the real users' data is as it was")
    assert.strictEqual(await leftovers(healthy), 0)
  })

  it("with the unique index but the seed's function: callers see unique violations, and the run fails naming them", async () => {
    const db = await parleyDatabase()
    await query(db, seedFunction)
    const run = await parley(db, ["hammer", "--mode", "sql", "--users", "2", "--callers", "24", "--connections", "12", "--duration", "3s", "--idle-timeout", "10ms"])
    assert.strictEqual(run.code, 1, run.stdout + run.stderr)
    assert.match(run.stdout, /^ {2}errors SqlError\/UniqueViolation: \d+/m)
    assert.match(run.stdout, /^✓ never two active sessions per user/m, "the index held")
    assert.match(run.stderr, /^parley: hammer: \d+ call\(s\) failed/m)
  })

  it("refuses a database that is not parley's, or whose migrations are behind, before writing anything", async () => {
    const empty = await createScratchDatabase()
    databases.push(empty)
    const foreign = await parley(empty, ["hammer", "--count", "10"])
    assert.strictEqual(foreign.code, 1)
    assert.match(foreign.stderr, /^parley: this database does not have parley's schema/m)
    assert.deepStrictEqual(await query(empty, "SELECT to_regclass('parley_migrations') AS t"), [{ t: null }], "nothing created")

    assert.strictEqual((await parley(empty, ["migrate", "up", "4"])).code, 0)
    const behind = await parley(empty, ["hammer", "--count", "10"])
    assert.strictEqual(behind.code, 1)
    const pending = loadMigrations().map((m) => m.version).filter((v) => v > 4).join(", ")
    assert.include(behind.stderr, `parley: the database's migrations are behind this version of parley (pending: ${pending})`)
    assert.deepStrictEqual(await query(empty, "SELECT count(*)::int AS n FROM subcontractors"), [{ n: 0 }])
  })
})

describe("parley doctor --watch", () => {
  it("watches read-only, then exits non-zero on the first violation, naming it", async () => {
    const db = await parleyDatabase()
    const child = spawn(process.execPath, [cli, "doctor", "--watch", "--interval", "100ms", "--for", "60s"], { env: { ...process.env, DATABASE_URL: db.url } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += String(d)))
    child.stderr.on("data", (d) => (stderr += String(d)))
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    const until = async (pattern: RegExp) => {
      const deadline = Date.now() + 30_000
      while (!pattern.test(stdout)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in: ${stdout}${stderr}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    try {
      await until(/^✓ round 1: no violation$/m)
      // The seed's bug, live: the index dropped and a second active session for Karim.
      await Effect.runPromise(Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`DROP INDEX idx_unique_active_session_per_user`
          yield* sql`INSERT INTO conversation_sessions (subcontractor_id) SELECT id FROM subcontractors WHERE phone = '+33612345678'`
        }))
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(db.url), maxConnections: 1 }))))
      const code = await exited
      const [karim] = await query<{ id: string }>(db, "SELECT id::text FROM subcontractors WHERE phone = '+33612345678'")
      assert.strictEqual(code, 1, stdout + stderr)
      assert.match(stdout, /^✗ unique index missing: 1; first rows:$/m, stdout + stderr)
      assert.match(stdout, /^✗ two active sessions for one user: 1; first rows:$/m, stdout + stderr)
      assert.include(stdout, `user ${karim!.id}: 2 active sessions: `)
      assert.match(stderr, /^parley: doctor --watch: unique index missing/m)
    } finally {
      child.kill("SIGKILL")
    }
  })

  it("exits 0 after --for without a violation", async () => {
    const run = await parley(healthy, ["doctor", "--watch", "--interval", "100ms", "--for", "1s"])
    assert.strictEqual(run.code, 0, run.stdout + run.stderr)
    assert.match(run.stdout, /^✓ \d+ rounds, no violation$/m)
  })
})
