// npm run test:pooler — the server through a real PgBouncer (Debian's package,
// installed by .ci/run), in transaction mode (Supabase's 6543) and in session
// mode: the same invariants as direct, and zero errors.
import { PgClient } from "@effect/sql-pg"
import { loadMigrations, PgSessionStore, poolModeOptions, seedDemo, sessionHealth } from "@parley/adapters-pg"
import { createScratchDatabase, serverUrl, startPgBouncer, type RunningPgBouncer } from "@parley/adapters-pg/testing"
import { startFakeGraphApi, type FakeGraphApi } from "@parley/adapters-whatsapp/testing"
import { demoSubcontractors, SessionStore, UserId } from "@parley/core"
import { DateTime, Duration, Effect, Layer, Redacted } from "effect"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { metaClient, metaEnv, seedManualTest, text } from "../test/support/MetaClient.ts"
import { startServer, type RunningServer } from "../test/support/ServerProcess.ts"

const versions = loadMigrations().map((m) => m.version)
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url))
const appSecret = "pooler-app-secret"
const [karim, sarah, lucie] = demoSubcontractors as unknown as [typeof demoSubcontractors[0], typeof demoSubcontractors[0], typeof demoSubcontractors[0]]

const onDatabase = <A>(url: string, body: Effect.Effect<A, unknown, PgClient.PgClient>, options: { prepare?: boolean; maxConnections?: number } = {}) =>
  Effect.runPromise(body.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: options.maxConnections ?? 1, ...options }))))

const query = <A extends object>(url: string, text: string, params: ReadonlyArray<unknown> = []) =>
  onDatabase(url, Effect.flatMap(PgClient.PgClient, (sql) => sql.unsafe<A>(text, params)) as Effect.Effect<ReadonlyArray<A>, unknown, PgClient.PgClient>)

const parley = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (_e, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }))
  })

/** Log lines at WARN or worse, and any sign of the pooler failures issue 12 saw. */
const troubles = (output: string) =>
  output.split("\n").filter((line) => /"level":"(WARN|ERROR|FATAL)"|prepared statement|25P02|current transaction is aborted/.test(line))

/**
 * PgBouncer in `mode` in front of the run's Postgres, a fake Graph API, a scratch database seeded
 * with the demo, and `parley start` on the pooled URL with `env(directUrl)` — started before the
 * describe's tests and stopped after.
 */
const throughBouncer = (mode: "session" | "transaction", env: (directUrl: string) => Record<string, string>) => {
  const route = {} as { bouncer: RunningPgBouncer; graph: FakeGraphApi; server: RunningServer; db: Awaited<ReturnType<typeof createScratchDatabase>>; pooled: string }
  beforeAll(async () => {
    route.bouncer = await startPgBouncer(serverUrl(), mode)
    route.graph = await startFakeGraphApi()
    route.db = await createScratchDatabase()
    route.pooled = route.bouncer.urlFor(route.db.name)
    route.server = await startServer({
      DATABASE_URL: route.pooled,
      DATABASE_POOL_MODE: mode,
      ...metaEnv(route.graph, appSecret),
      ...env(route.db.url)
    })
    await onDatabase(route.db.url, seedDemo())
  }, 120_000)
  afterAll(async () => {
    await route.server?.stop()
    await route.graph?.close()
    await route.db?.drop()
    await route.bouncer?.stop()
  }, 60_000)
  return route
}

describe.each(["transaction", "session"] as const)("through PgBouncer in %s mode", (mode) => {
  const route = throughBouncer(mode, (directUrl) => ({
    // Transaction mode: LISTEN and migrations on the direct URL. Session mode holds LISTEN through the pooler itself.
    ...(mode === "transaction" ? { DATABASE_DIRECT_URL: directUrl } : {}),
    WORKER_COUNT: "4",
    DATABASE_POOL_SIZE: "8"
  }))
  const chat = metaClient(() => route.server.url, () => route.graph, appSecret, `pooler.${mode}`)

  it("the server says which route it took, and /readyz has LISTEN up", async () => {
    assert.include(route.server.output(), `"poolMode":"${mode}"`)
    assert.match(route.server.output(), /"pooler":"likely \(DATABASE_URL port \d+, server port \d+\)"/)
    const ready = await (await fetch(`${route.server.url}/readyz`)).json() as { ready: boolean; details: { wakeups: string } }
    assert.deepStrictEqual([ready.ready, ready.details.wakeups], [true, "listening"])
  })

  it("the seed's manual test: Bonjour → menu → View Sites → Champigny → its tasks, all in one session", async () => {
    await seedManualTest(chat, karim.phone)
    const sessions = await query<{ status: string; n: number }>(route.db.url,
      `SELECT s.status, count(*)::int AS n FROM messages m JOIN conversation_sessions s ON s.id = m.session_id
       WHERE m.subcontractor_id = $1::uuid GROUP BY m.session_id, s.status`, [karim.id])
    assert.deepStrictEqual(sessions.map((s) => [s.status, s.n]), [["active", 6]])
  })

  it("50 concurrent webhooks from one user: one active session, 50 in and 50 out", async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => chat.deliver(lucie.phone, text(i % 2 === 0 ? "Bonjour" : "menu"))))
    assert.deepStrictEqual([...new Set(responses.map((r) => r.status))], [200])
    await chat.waitForReplies(lucie.phone, 50)
    const rows = await query<{ status: string; direction: string; n: number }>(route.db.url,
      `SELECT s.status, m.direction, count(*)::int AS n FROM messages m JOIN conversation_sessions s ON s.id = m.session_id
       WHERE m.subcontractor_id = $1::uuid GROUP BY 1, 2 ORDER BY 2`, [lucie.id])
    assert.deepStrictEqual(rows.map((r) => [r.status, r.direction, r.n]), [["active", "inbound", 50], ["active", "outbound", 50]])
  })

  it("each webhook delivered twice: processed once, one reply each", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `wamid.pooler.${mode}.twice.${i}`)
    const responses = await Promise.all(ids.flatMap((id) => [chat.deliver(sarah.phone, text("hello"), id), chat.deliver(sarah.phone, text("hello"), id)]))
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ accepted: number; duplicates: number }>))
    assert.strictEqual(bodies.reduce((a, b) => a + b.accepted, 0), 10)
    assert.strictEqual(bodies.reduce((a, b) => a + b.duplicates, 0), 10)
    await chat.waitForReplies(sarah.phone, 10)
    await new Promise((r) => setTimeout(r, 1000))
    assert.strictEqual(chat.sentTo(sarah.phone).length, 10, "exactly one reply per message")
  })

  it("get_or_create_session hammered through the pooler: 4 users × 5 rounds of 100 concurrent calls, one session per user per round", async () => {
    const users = await onDatabase(route.db.url, Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const ids = Array.from({ length: 4 }, () => crypto.randomUUID())
      for (const id of ids) {
        yield* sql`INSERT INTO subcontractors (id, phone, display_name) VALUES (${id}::uuid, ${`+3369${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`}, 'Hammer')`
      }
      return ids.map((id) => UserId.make(id))
    }))
    const policy = { idleTimeout: Duration.minutes(30) }
    // Transaction mode: 30 client connections on PgBouncer's 20 server connections, multiplexed per transaction.
    // Session mode pins a server connection per client, and the running server holds 10 of the 20.
    await onDatabase(route.pooled, Effect.gen(function*() {
      const store = yield* SessionStore
      const start = yield* DateTime.now
      for (let round = 0; round < 5; round++) {
        const now = DateTime.add(start, { minutes: 31 * round })
        const results = yield* Effect.forEach(Array.from({ length: 100 }, (_, i) => users[i % users.length]!), (user) =>
          store.getOrCreateActive(user, now, policy), { concurrency: "unbounded" })
        for (const user of users) {
          const mine = results.filter((r) => r.session.userId === user)
          assert.strictEqual(new Set(mine.map((r) => r.session.id)).size, 1, `round ${round}: one session for the user`)
          assert.strictEqual(mine.filter((r) => r.outcome !== "reused").length, 1, `round ${round}: one creator`)
        }
      }
      assert.deepStrictEqual(yield* Effect.flatMap(sessionHealth, (h) => h.duplicateActiveSessions), [])
    }).pipe(Effect.provide(Layer.fresh(PgSessionStore))) as Effect.Effect<void, unknown, PgClient.PgClient>, { ...poolModeOptions(mode), maxConnections: mode === "transaction" ? 30 : 8 })
  })

  it("`migrate up` twice at once through the pooler, 3 times on fresh databases: both succeed, each migration applied once", async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const fresh = await createScratchDatabase()
      try {
        // No direct URL here: the migrator's transaction-scoped lock must hold through the pooler itself.
        const env = { DATABASE_URL: route.bouncer.urlFor(fresh.name), DATABASE_POOL_MODE: mode }
        const [a, b] = await Promise.all([parley(["migrate", "up"], env), parley(["migrate", "up"], env)])
        assert.deepStrictEqual([a.code, b.code], [0, 0], `${a.stderr}${b.stderr}`)
        const applied = [a.stdout, b.stdout].flatMap((out) => /applied ([\d, ]+)/.exec(out)?.[1]?.split(", ").map(Number) ?? [])
        assert.deepStrictEqual(applied.sort((x, y) => x - y), versions, `${a.stdout} | ${b.stdout}`)
        const rows = await query<{ n: number }>(fresh.url, "SELECT count(*)::int AS n FROM parley_migrations")
        assert.strictEqual(rows[0]!.n, versions.length)
      } finally {
        await fresh.drop()
      }
    }
  })

  it("zero errors: no warning in the server's log, no connection left in an aborted transaction", async () => {
    assert.deepStrictEqual(troubles(route.server.output()), [])
    const stuck = await query<{ n: number }>(route.db.url,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction (aborted)'")
    assert.strictEqual(stuck[0]!.n, 0)
    assert.notMatch(route.bouncer.log(), /got packet 'A' from server when not linked/)
  })
})

describe("through PgBouncer in transaction mode without DATABASE_DIRECT_URL", () => {
  const route = throughBouncer("transaction", () => ({ WAKE_POLL_INTERVAL_MS: "100" }))
  const chat = metaClient(() => route.server.url, () => route.graph, appSecret, "pooler.polling")

  it("warns once at start, /readyz says wake-ups are degraded (still ready), and conversations work on the fast poll", async () => {
    const warnings = troubles(route.server.output())
    assert.strictEqual(warnings.length, 1, warnings.join("\n"))
    assert.include(warnings[0]!, "DATABASE_POOL_MODE=transaction without DATABASE_DIRECT_URL: no LISTEN")
    assert.include(warnings[0]!, "every 100 ms")
    const ready = await (await fetch(`${route.server.url}/readyz`)).json() as { ready: boolean; checks: { listening: boolean }; details: { wakeups: string } }
    assert.isTrue(ready.ready)
    assert.isFalse(ready.checks.listening)
    assert.match(ready.details.wakeups, /^degraded: no LISTEN: DATABASE_POOL_MODE=transaction without DATABASE_DIRECT_URL; workers poll every 100 ms$/)
    await seedManualTest(chat, karim.phone)
    assert.lengthOf(troubles(route.server.output()), 1, "nothing else went wrong")
  })
})
