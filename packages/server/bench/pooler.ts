// npm run bench:pooler — message latency through PgBouncer against direct.
// One real `parley start` per route, on its own database of one Postgres
// (DATABASE_URL's server, else an embedded one), replies to a fake Graph API
// in this process. Per route: one user's sequential messages (webhook POST →
// reply at the Graph API: median and p95), then a burst of one user's
// messages (first POST → last reply). Printed as a table with the ratio to
// direct; reported, never asserted (the absolute numbers depend on the machine).
//
// Env: DATABASE_URL (admin URL of the server to use), BENCH_SEQUENTIAL (40), BENCH_BURST (60).
import { PgClient } from "@effect/sql-pg"
import { seedDemo, startEmbeddedPostgres } from "@parley/adapters-pg"
import { startPgBouncer, type RunningPgBouncer } from "@parley/adapters-pg/testing"
import { metaWebhookPayload, startFakeGraphApi } from "@parley/adapters-whatsapp/testing"
import { demoSubcontractors } from "@parley/core"
import { Effect, Redacted } from "effect"
import { createHmac } from "node:crypto"
import { chmodSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startServer, type RunningServer } from "../test/support/ServerProcess.ts"

const sequential = Number(process.env["BENCH_SEQUENTIAL"] ?? 40)
const burst = Number(process.env["BENCH_BURST"] ?? 60)
const appSecret = "bench-pooler-secret"
const [karim, lucie] = [demoSubcontractors[0]!, demoSubcontractors[2]!]

const onDatabase = <A>(url: string, body: Effect.Effect<A, unknown, PgClient.PgClient>) =>
  Effect.runPromise(body.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))))
const withDatabaseName = (url: string, name: string) => {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}
const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const cleanups: Array<() => Promise<unknown>> = []
const main = async () => {
  let admin = process.env["DATABASE_URL"]
  if (admin === undefined || admin === "") {
    const dir = mkdtempSync(join(tmpdir(), "parley-bench-pg-"))
    chmodSync(dir, 0o755)
    const pg = await startEmbeddedPostgres({ dir, persistent: false })
    cleanups.push(pg.stop)
    admin = pg.url
  }
  const graph = await startFakeGraphApi()
  cleanups.push(() => graph.close())
  const bouncers: Record<string, RunningPgBouncer> = {}
  for (const mode of ["transaction", "session"] as const) {
    bouncers[mode] = await startPgBouncer(admin, mode)
    cleanups.push(bouncers[mode].stop)
  }

  const routes = [
    { name: "direct", env: (db: string) => ({ DATABASE_URL: db }) },
    { name: "PgBouncer transaction + DATABASE_DIRECT_URL", env: (db: string, name: string) => ({ DATABASE_URL: bouncers["transaction"]!.urlFor(name), DATABASE_POOL_MODE: "transaction", DATABASE_DIRECT_URL: db }) },
    { name: "PgBouncer transaction, polling (no direct URL)", env: (_db: string, name: string) => ({ DATABASE_URL: bouncers["transaction"]!.urlFor(name), DATABASE_POOL_MODE: "transaction" }) },
    { name: "PgBouncer session", env: (_db: string, name: string) => ({ DATABASE_URL: bouncers["session"]!.urlFor(name), DATABASE_POOL_MODE: "session" }) }
  ]

  let wamid = 0
  const results: Array<{ route: string; median: number; p95: number; burstSeconds: number; errors: number }> = []
  for (const route of routes) {
    const name = `parley_bench_pooler_${Date.now()}`
    await onDatabase(admin, Effect.flatMap(PgClient.PgClient, (sql) => sql.unsafe(`CREATE DATABASE ${name}`)))
    const dbUrl = withDatabaseName(admin, name)
    let server: RunningServer | undefined
    try {
      server = await startServer({
        ...route.env(dbUrl, name),
        META_APP_SECRET: appSecret,
        META_VERIFY_TOKEN: "bench",
        META_ACCESS_TOKEN: "bench",
        META_PHONE_NUMBER_ID: "106540352242922",
        META_GRAPH_URL: graph.graphUrl,
        WORKER_COUNT: "4",
        DATABASE_POOL_SIZE: "8",
        LOG_LEVEL: "warn"
      })
      await onDatabase(dbUrl, seedDemo())
      const url = server.url
      const post = (from: string, body: string) => {
        const payload = JSON.stringify(metaWebhookPayload({ from: from as never, id: `wamid.bench.${++wamid}`, message: { type: "text", text: { body } } }))
        return fetch(`${url}/webhooks/whatsapp`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${createHmac("sha256", appSecret).update(payload).digest("hex")}` },
          body: payload
        })
      }
      const repliesTo = (phone: string) => graph.sent().filter((m) => m.payload["to"] === phone.slice(1)).length
      const until = async (check: () => boolean, timeoutMs = 60_000) => {
        const deadline = Date.now() + timeoutMs
        while (!check()) {
          if (Date.now() > deadline) throw new Error(`${route.name}: timed out`)
          await new Promise((r) => setTimeout(r, 1))
        }
      }
      // Warm-up: the first message creates the session and fills the pools.
      const warm = repliesTo(karim.phone)
      await post(karim.phone, "menu")
      await until(() => repliesTo(karim.phone) > warm)

      const latencies: Array<number> = []
      for (let i = 0; i < sequential; i++) {
        const before = repliesTo(karim.phone)
        const t0 = performance.now()
        const r = await post(karim.phone, i % 2 === 0 ? "menu" : "chantiers")
        if (r.status !== 200) throw new Error(`${route.name}: webhook answered ${r.status}`)
        await until(() => repliesTo(karim.phone) > before)
        latencies.push(performance.now() - t0)
      }
      const burstBefore = repliesTo(lucie.phone)
      const t0 = performance.now()
      const statuses = await Promise.all(Array.from({ length: burst }, () => post(lucie.phone, "menu").then((r) => r.status)))
      await until(() => repliesTo(lucie.phone) >= burstBefore + burst, 120_000)
      const burstSeconds = (performance.now() - t0) / 1000
      const errors = statuses.filter((s) => s !== 200).length +
        server.output().split("\n").filter((l) => /"level":"(ERROR|FATAL)"|prepared statement|25P02/.test(l)).length
      results.push({ route: route.name, median: percentile(latencies, 50), p95: percentile(latencies, 95), burstSeconds, errors })
    } finally {
      await server?.stop()
      await onDatabase(admin, Effect.flatMap(PgClient.PgClient, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)))
    }
  }
  const direct = results[0]!
  console.log(`\n${sequential} sequential messages of one user (POST → reply), then a burst of ${burst} from another:\n`)
  console.log("| route | median | p95 | median vs direct | burst | errors |")
  console.log("|---|---|---|---|---|---|")
  for (const r of results) {
    console.log(`| ${r.route} | ${r.median.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${(r.median / direct.median).toFixed(2)}× | ${burst}/${burst} in ${r.burstSeconds.toFixed(2)} s | ${r.errors} |`)
  }
}

main().then(
  async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {})
  },
  async (error) => {
    console.error(error)
    for (const c of cleanups.reverse()) await c().catch(() => {})
    process.exit(1)
  }
)
