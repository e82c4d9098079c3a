// npm run bench:e2e — the whole server path. A load generator process posts
// signed Cloud API webhooks at increasing concurrency to a real `parley start`
// process whose replies go to a fake Graph API in this process. Reported per
// concurrency: webhook acknowledgement latency, end-to-end messages/s (first
// send → last reply at the fake Graph API), and, measured in the same run, the
// rate of the same SQL statements from a plain loop on a pool of the same size
// (sqlOnly.ts). The target is e2e ≥ 50% of that rate; it is reported, never
// asserted, because the absolute numbers depend on the machine.
//
// Env: DATABASE_URL (else an embedded Postgres), BENCH_CONCURRENCY (1,8,32,64),
// BENCH_MESSAGES per level, BENCH_USERS, BENCH_WORKERS, BENCH_POOL_SIZE,
// BENCH_SQL_SECONDS, BENCH_SERVER_NODE_ARGS.
import { PgClient } from "@effect/sql-pg"
import { makeMigrator } from "@parley/adapters-pg"
import { freePort, startEmbeddedPostgres } from "@parley/adapters-pg/embedded"
import { startFakeGraphApi } from "@parley/adapters-whatsapp/testing"
import { Effect, ManagedRuntime, Redacted, References } from "effect"
import { spawn, type ChildProcess } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { LoadConfig, LoadResult } from "./loadgen.ts"
import { sqlOnlyRate } from "./sqlOnly.ts"

const envNumber = (name: string, fallback: number) => {
  const raw = process.env[name]
  const value = raw === undefined || raw === "" ? fallback : Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`)
  return value
}
const levels = (process.env["BENCH_CONCURRENCY"] ?? "1,8,32,64").split(",").map(Number)
if (levels.some((c) => !Number.isInteger(c) || c <= 0)) throw new Error(`BENCH_CONCURRENCY must list positive integers, got ${process.env["BENCH_CONCURRENCY"]}`)
const messagesPerLevel = envNumber("BENCH_MESSAGES", 600)
const userCount = envNumber("BENCH_USERS", 500)
// Workers mostly wait on Postgres round trips, so more of them than cores pays;
// the pool holds them, the sender, the webhook's inserts and the two LISTEN
// connections (each pins one pooled connection for the process's lifetime).
const workers = envNumber("BENCH_WORKERS", 8)
const poolSize = envNumber("BENCH_POOL_SIZE", 16)
const sqlSeconds = envNumber("BENCH_SQL_SECONDS", 3)
// Node options for the server process only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
// (NODE_OPTIONS refuses --cpu-prof, and would profile every process).
const serverNodeArgs = (process.env["BENCH_SERVER_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== "")
const warmupMessages = 300
const replyTimeoutMs = 120_000
const appSecret = "bench-app-secret"
// "Bonjour" and "menu" answer with the menu (no tool query); "chantiers" lists
// the user's projects, the pipeline's most common tool query.
const texts = ["Bonjour", "chantiers", "menu"]
const phones = Array.from({ length: userCount }, (_, i) => `+3361${String(i + 1).padStart(7, "0")}`)

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url))
const loadgen = fileURLToPath(new URL("./loadgen.ts", import.meta.url))
const epochNow = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// --- CPU accounting from /proc: where the two cores went (Linux only; zeros elsewhere).
// /proc reports clock ticks of USER_HZ, which Linux fixes at 100 for userspace.
const clockTicks = 100
const procCpuMillis = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks
  } catch {
    return 0
  }
}
const selfCpuMillis = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

// --- Processes and databases, each registered for cleanup as soon as it exists.
type Cleanup = () => Promise<void>
const cleanups: Array<{ readonly what: string; readonly run: Cleanup }> = []
const onCleanup = (what: string, run: Cleanup) => void cleanups.push({ what, run })
let cleaning: Promise<void> | undefined
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const { what, run } of cleanups.reverse()) {
      try {
        await run()
      } catch (e) {
        console.error(`cleanup of ${what} failed:`, e)
      }
    }
  })())

const stopChild = (child: ChildProcess, graceMs: number) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs)
    child.once("exit", () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill("SIGTERM")
  })

const onDatabase = <A>(url: string, use: (sql: PgClient.PgClient) => Effect.Effect<A, unknown, PgClient.PgClient>) =>
  Effect.runPromise(Effect.gen(function*() {
    return yield* use(yield* PgClient.PgClient)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))))

const withDatabaseName = (url: string, name: string) => {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/**
 * CPU of the Postgres backends serving the bench's databases, by pid. Only
 * those: on a shared server other clients' backends come and go, and their
 * CPU is not ours to count.
 */
const backendCpu = async (adminUrl: string, databases: ReadonlyArray<string>) => {
  const rows = await onDatabase(adminUrl, (sql) =>
    sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname IN ${sql.in(databases)}`)
  return new Map(rows.map((r) => [r.pid, procCpuMillis(r.pid)]))
}
const backendCpuSince = async (before: ReadonlyMap<number, number>, adminUrl: string, databases: ReadonlyArray<string>) => {
  let total = 0
  for (const [pid, cpu] of await backendCpu(adminUrl, databases)) total += cpu - (before.get(pid) ?? 0)
  return total
}

/** Migrated, with `userCount` subcontractors on 30 projects, 3 each: the same data in both databases. */
const prepareDatabase = (url: string) =>
  onDatabase(url, (sql) =>
    Effect.gen(function*() {
      yield* (yield* makeMigrator()).up()
      yield* sql`INSERT INTO subcontractors (phone, display_name)
                 SELECT '+3361' || lpad(g::text, 7, '0'), 'Bench ' || g FROM generate_series(1, ${userCount}) g`
      yield* sql`INSERT INTO projects (name, address) SELECT 'Site ' || lpad(g::text, 2, '0'), g || ' rue du Banc' FROM generate_series(1, 30) g`
      yield* sql`INSERT INTO project_assignments (subcontractor_id, project_id)
                 SELECT s.id, p.id
                 FROM (SELECT id, row_number() OVER (ORDER BY phone) AS n FROM subcontractors) s
                 JOIN (SELECT id, row_number() OVER (ORDER BY name) AS n FROM projects) p ON (s.n + p.n) % 10 = 0`
    }).pipe(
      // The migrator logs each migration at info: a screenful, twice, above the table.
      Effect.provideService(References.MinimumLogLevel, "Warn")
    ))

const startServer = async (env: Record<string, string>, logPath: string) => {
  const port = await freePort()
  const log = openSync(logPath, "w")
  // Logs go to a file: the server pays for writing them as in production, and
  // this process does not spend CPU collecting them.
  const child = spawn(process.execPath, [...process.execArgv, ...serverNodeArgs, cli, "start"], {
    env: { ...process.env, PORT: String(port), LOG_FORMAT: "json", ...env },
    stdio: ["ignore", log, log]
  })
  closeSync(log)
  onCleanup("the server", () => stopChild(child, 15_000))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  while (true) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${tail(logPath)}`)
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break
    } catch {}
    if (Date.now() > deadline) throw new Error(`server not ready in 60 s:\n${tail(logPath)}`)
    await sleep(100)
  }
  return { url, child }
}

const tail = (path: string) => {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-30).join("\n")
  } catch {
    return "(no log)"
  }
}

const runLoad = (config: LoadConfig) =>
  new Promise<LoadResult>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, loadgen, JSON.stringify(config)], { stdio: ["ignore", "pipe", "inherit"] })
    const forget = () => {
      const i = cleanups.findIndex((c) => c.run === stop)
      if (i >= 0) cleanups.splice(i, 1)
    }
    const stop = () => stopChild(child, 2_000)
    onCleanup("the load generator", stop)
    let out = ""
    child.stdout!.on("data", (d) => (out += d))
    child.once("error", reject)
    child.once("exit", (code) => {
      forget()
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`))
      try {
        resolve(JSON.parse(out) as LoadResult)
      } catch (e) {
        reject(new Error(`load generator output unreadable: ${out}`, { cause: e }))
      }
    })
  })

const run = async () => {
  let adminUrl = process.env["DATABASE_URL"]
  let where = "DATABASE_URL"
  if (adminUrl === undefined || adminUrl === "") {
    const dir = mkdtempSync(join(tmpdir(), "parley-bench-e2e-"))
    onCleanup("the embedded Postgres folder", async () => rmSync(dir, { recursive: true, force: true }))
    const pg = await startEmbeddedPostgres({ dir, persistent: false })
    onCleanup("the embedded Postgres", () => pg.stop())
    adminUrl = pg.url
    where = "embedded Postgres"
  }
  const admin = adminUrl
  // Two databases with the same data: the server's, and the SQL-only loop's, so
  // the idle server's workers never claim the baseline's inbox rows.
  const stamp = `${Date.now()}_${process.pid}`
  const names = { server: `parley_bench_e2e_${stamp}`, sql: `parley_bench_sql_${stamp}` }
  for (const name of Object.values(names)) {
    await onDatabase(admin, (sql) => sql.unsafe(`CREATE DATABASE ${name}`))
    onCleanup(`database ${name}`, () => onDatabase(admin, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}))
  }
  const serverDb = withDatabaseName(admin, names.server)
  const sqlDb = withDatabaseName(admin, names.sql)
  await prepareDatabase(serverDb)
  await prepareDatabase(sqlDb)

  const graph = await startFakeGraphApi()
  onCleanup("the fake Graph API", () => graph.close())
  let replies = 0
  let lastReplyAt = 0
  graph.onRequest((_request, answer) => {
    if ((answer.body as { messages?: ReadonlyArray<unknown> }).messages === undefined) return
    replies++
    lastReplyAt = epochNow()
  })

  const logDir = mkdtempSync(join(tmpdir(), "parley-bench-e2e-log-"))
  onCleanup("the server log", async () => rmSync(logDir, { recursive: true, force: true }))
  const logPath = join(logDir, "server.log")
  const server = await startServer({
    DATABASE_URL: serverDb,
    META_APP_SECRET: appSecret,
    META_VERIFY_TOKEN: "bench-verify",
    META_ACCESS_TOKEN: "bench-access",
    META_PHONE_NUMBER_ID: "106540352242922",
    META_GRAPH_URL: graph.graphUrl,
    WORKER_COUNT: String(workers),
    DATABASE_POOL_SIZE: String(poolSize)
  }, logPath)
  const serverPid = server.child.pid!

  const waitForReplies = async (target: number) => {
    const deadline = Date.now() + replyTimeoutMs
    while (replies < target) {
      if (server.child.exitCode !== null) throw new Error(`server exited with ${server.child.exitCode}:\n${tail(logPath)}`)
      if (Date.now() > deadline) throw new Error(`${replies}/${target} replies after ${replyTimeoutMs / 1000} s:\n${tail(logPath)}`)
      await sleep(10)
    }
  }

  const sqlRuntime = ManagedRuntime.make(PgClient.layer({ url: Redacted.make(sqlDb), maxConnections: poolSize }))
  onCleanup("the SQL-only pool", () => sqlRuntime.dispose())

  // Other processes on the machine skew both sides; the load average says how much.
  const loadAtStart = loadavg()[0]!
  console.error(
    `parley bench:e2e — ${where}, server WORKER_COUNT=${workers} DATABASE_POOL_SIZE=${poolSize}, SQL-only pool ${poolSize}, ` +
      `${userCount} users, ${messagesPerLevel} messages per level, ${sqlSeconds} s SQL-only per level`
  )

  // Warm both sides (JIT, pooled connections, prepared statements, first sessions) before measuring.
  await runLoad({ url: server.url, appSecret, concurrency: 16, messages: warmupMessages, phones, idPrefix: "wamid.warmup", texts })
  await waitForReplies(warmupMessages)
  await sqlRuntime.runPromise(sqlOnlyRate({ concurrency: 16, seconds: 1, phones, texts, idPrefix: "sql.warmup" }))
  // Statistics as a running deployment has them (processed history, no backlog)
  // rather than none at all; autovacuum may refresh them during the run, as it would there.
  for (const db of [serverDb, sqlDb]) await onDatabase(db, (sql) => sql`ANALYZE`)

  interface SqlHalf {
    readonly sent: number
    readonly seconds: number
    readonly client: number
    readonly postgres: number
  }
  // Half of the SQL-only time before the e2e run and half after: drift in the
  // machine's load (other processes, the disk) then hits both sides alike.
  const sqlHalf = async (concurrency: number, half: string): Promise<SqlHalf> => {
    const before = { postgres: await backendCpu(admin, [names.sql]), self: selfCpuMillis() }
    const r = await sqlRuntime.runPromise(sqlOnlyRate({ concurrency, seconds: sqlSeconds / 2, phones, texts, idPrefix: `sql.c${concurrency}.${half}` }))
    const client = selfCpuMillis() - before.self
    return { sent: r.sent, seconds: r.seconds, client, postgres: await backendCpuSince(before.postgres, admin, [names.sql]) }
  }

  interface Row {
    readonly concurrency: number
    readonly load: LoadResult
    readonly e2eRate: number
    readonly sqlRate: number
    readonly stages: { readonly turnsPerSecond: number; readonly sendsPerSecond: number; readonly inboxMs: number; readonly outboxMs: number }
    readonly cpu: { readonly server: number; readonly postgres: number; readonly loadgen: number; readonly graph: number; readonly wall: number }
    readonly sql: SqlHalf
  }
  const rows: Array<Row> = []
  for (const concurrency of levels) {
    const prefix = `wamid.c${concurrency}`
    const first = await sqlHalf(concurrency, "a")
    const before = { replies, server: procCpuMillis(serverPid), postgres: await backendCpu(admin, [names.server]), self: selfCpuMillis() }
    const load = await runLoad({ url: server.url, appSecret, concurrency, messages: messagesPerLevel, phones, idPrefix: prefix, texts })
    if (load.failures > 0) throw new Error(`${load.failures} webhooks not accepted, first: ${load.firstFailure}`)
    await waitForReplies(before.replies + messagesPerLevel)
    const cpu = {
      server: procCpuMillis(serverPid) - before.server,
      graph: selfCpuMillis() - before.self,
      postgres: await backendCpuSince(before.postgres, admin, [names.server]),
      loadgen: load.cpuMillis,
      wall: lastReplyAt - load.firstSendAt
    }
    const e2eRate = messagesPerLevel / (cpu.wall / 1000)
    // Which stage held messages back: the workers (accepted → turn committed, and
    // turns per second while they had work) or the outbox sender (committed → sent).
    const [stages] = await onDatabase(serverDb, (sql) =>
      sql<{ turns_per_second: number; sends_per_second: number; inbox_ms: number; outbox_ms: number }>`
        WITH i AS (SELECT accepted_at, completed_at FROM inbox WHERE provider_message_id LIKE ${`${prefix}.%`}),
             o AS (SELECT created_at, sent_at FROM outbox WHERE reply_id LIKE ${`meta:${prefix}.%`})
        SELECT (SELECT count(*) / nullif(extract(epoch FROM max(completed_at) - min(completed_at)), 0) FROM i)::float8 AS turns_per_second,
               (SELECT count(*) / nullif(extract(epoch FROM max(sent_at) - min(sent_at)), 0) FROM o)::float8 AS sends_per_second,
               (SELECT avg(extract(epoch FROM completed_at - accepted_at)) * 1000 FROM i)::float8 AS inbox_ms,
               (SELECT avg(extract(epoch FROM sent_at - created_at)) * 1000 FROM o)::float8 AS outbox_ms`)
    const second = await sqlHalf(concurrency, "b")
    const sql: SqlHalf = {
      sent: first.sent + second.sent,
      seconds: first.seconds + second.seconds,
      client: first.client + second.client,
      postgres: first.postgres + second.postgres
    }
    const sqlRate = sql.sent / sql.seconds
    rows.push({
      concurrency,
      load,
      e2eRate,
      sqlRate,
      stages: { turnsPerSecond: stages!.turns_per_second, sendsPerSecond: stages!.sends_per_second, inboxMs: stages!.inbox_ms, outboxMs: stages!.outbox_ms },
      cpu,
      sql
    })
    console.error(`  concurrency ${concurrency}: e2e ${e2eRate.toFixed(0)} msg/s, SQL-only ${sqlRate.toFixed(0)} msg/s, ratio ${(e2eRate / sqlRate).toFixed(2)}`)
  }

  // The run is only worth reporting if every message got exactly one reply and no user has two active sessions;
  // the pause lets a duplicate reply, if any, arrive and be counted.
  await sleep(500)
  const [check] = await onDatabase(serverDb, (sql) =>
    sql<{ not_done: number; not_sent: number; duplicate_sessions: number }>`
      SELECT (SELECT count(*) FROM inbox WHERE state <> 'done')::int AS not_done,
             (SELECT count(*) FROM outbox WHERE state <> 'sent')::int AS not_sent,
             (SELECT count(*) FROM (SELECT subcontractor_id FROM conversation_sessions WHERE status = 'active'
                                    GROUP BY 1 HAVING count(*) > 1) d)::int AS duplicate_sessions`)
  const expectedReplies = warmupMessages + levels.length * messagesPerLevel

  const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1)
  const perMessage = (cpuMillis: number, messages: number) => (cpuMillis / messages).toFixed(2)
  const lines = [
    "| concurrency | ack p50 ms | ack p99 ms | e2e msg/s | SQL-only msg/s | e2e / SQL-only |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.concurrency} | ${ms(r.load.ackP50)} | ${ms(r.load.ackP99)} | ${r.e2eRate.toFixed(0)} | ${r.sqlRate.toFixed(0)} | ${(r.e2eRate / r.sqlRate).toFixed(2)} |`
    ),
    "",
    "Where the time went. Rates: webhooks acknowledged, turns committed by the workers and replies sent, each over its own active span;",
    "waits: mean accepted → turn committed (inbox) and committed → sent (outbox). CPU: ms per message (postgres: the bench databases' backends); cores busy = CPU / wall.",
    "",
    "| concurrency | acks/s | turns/s | sends/s | inbox wait ms | outbox wait ms | server CPU | postgres CPU | load gen CPU | fake Graph CPU | cores busy | SQL-only client CPU | SQL-only postgres CPU | SQL-only cores busy |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => {
      const n = messagesPerLevel
      const busy = (r.cpu.server + r.cpu.postgres + r.cpu.loadgen + r.cpu.graph) / r.cpu.wall
      const sqlBusy = (r.sql.client + r.sql.postgres) / (r.sql.seconds * 1000)
      return `| ${r.concurrency} | ${(n / ((r.load.lastAckAt - r.load.firstSendAt) / 1000)).toFixed(0)} | ${r.stages.turnsPerSecond.toFixed(0)} | ${
        r.stages.sendsPerSecond.toFixed(0)
      } | ${ms(r.stages.inboxMs)} | ${ms(r.stages.outboxMs)} | ${perMessage(r.cpu.server, n)} | ${perMessage(r.cpu.postgres, n)} | ${
        perMessage(r.cpu.loadgen, n)
      } | ${perMessage(r.cpu.graph, n)} | ${busy.toFixed(2)} | ${perMessage(r.sql.client, r.sql.sent)} | ${perMessage(r.sql.postgres, r.sql.sent)} | ${
        sqlBusy.toFixed(2)
      } |`
    }),
    ""
  ]
  const worst = Math.min(...rows.map((r) => r.e2eRate / r.sqlRate))
  const failing = rows.filter((r) => r.e2eRate / r.sqlRate < 0.5).map((r) => r.concurrency)
  lines.push(
    failing.length === 0
      ? `Target e2e ≥ 0.5 × SQL-only: met at every concurrency (lowest ratio ${worst.toFixed(2)}).`
      : `Target e2e ≥ 0.5 × SQL-only: NOT met at concurrency ${failing.join(", ")} (lowest ratio ${worst.toFixed(2)}).`,
    `Server: WORKER_COUNT=${workers}, DATABASE_POOL_SIZE=${poolSize} (2 of them held by LISTEN); SQL-only: ${poolSize} connections, one loop per concurrency level. ` +
      `${userCount} users round robin, texts ${texts.map((t) => `"${t}"`).join("/")}, ${messagesPerLevel} webhooks per level, ${sqlSeconds} s of SQL-only per level ` +
      `(half before, half after the e2e run); ${where}. Load average (1 min) at start ${loadAtStart.toFixed(1)}, at end ${loadavg()[0]!.toFixed(1)}.`,
    "concurrency = webhooks in flight from the load generator (e2e) / loops issuing the statements back to back (SQL-only). " +
      "e2e msg/s = messages / (first send → last reply at the fake Graph API).",
    `Checks: ${replies}/${expectedReplies} replies, inbox rows not done ${check!.not_done}, outbox rows not sent ${check!.not_sent}, users with 2+ active sessions ${check!.duplicate_sessions}.`
  )
  console.log(lines.join("\n"))
  if (replies !== expectedReplies || check!.not_done + check!.not_sent + check!.duplicate_sessions > 0) {
    throw new Error("the run's checks failed (see above)")
  }
}

let interrupted = false
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    interrupted = true
    console.error(`${signal}: cleaning up`)
    void cleanup().finally(() => process.exit(130))
  })
}

run().then(
  () => cleanup().then(() => process.exit(0)),
  (e) => {
    // After a signal the run fails because cleanup took its processes away: not worth reporting.
    if (!interrupted) console.error(e)
    return cleanup().then(() => process.exit(1))
  }
)
