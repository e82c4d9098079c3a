// npm run bench:backlog — does a claim slow down as the backlog grows?
//
// Busy users each have one message in flight (leased) and the rest of their
// messages queued behind it; a free user then sends one message and a worker
// claims it. The claim's latency with 10,000 messages queued behind the busy
// users is compared with the same claim with 10 queued, on a freshly migrated
// database whose tables have no statistics (autovacuum off, no ANALYZE: the
// planner's worst guess) and on an analysed one. Goal: within 1.5× (the claim
// reads the queues that are ready, `inbox_queues_ready`, never other users'
// pending rows).
//
// Environment: DATABASE_URL (else an embedded Postgres), BENCH_CLAIMS (claims
// timed per cell, default 300), BENCH_BUSY_USERS (default 50).
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { loadavg } from "node:os"
import { performance } from "node:perf_hooks"
import { messagingSql } from "../src/MessagingSql.ts"
import { makeMigrator } from "../src/Migrations.ts"
import { withBenchDatabase } from "./benchDatabase.ts"

const claims = Number(process.env["BENCH_CLAIMS"] ?? 300)
const busyUsers = Number(process.env["BENCH_BUSY_USERS"] ?? 50)
const backlogs = [10, 10_000]
const leaseMillis = 3_600_000

const percentile = (xs: ReadonlyArray<number>, p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

const message = (sender: string, n: number) => ({
  provider: "meta",
  provider_message_id: `wamid.backlog.${sender}.${n}.${Math.random()}`,
  sender,
  payload: { provider: "meta", providerMessageId: `x${n}`, from: sender, sentAt: 0, content: { _tag: "Text", body: "hello" } }
})

/** `backlog` messages queued behind `busyUsers` users whose first message is in flight. */
const fill = (backlog: number) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const statements = messagingSql(sql)
    yield* sql`TRUNCATE inbox, inbox_queues`
    const now = new Date()
    const users = Math.min(busyUsers, backlog)
    const perUser = Math.ceil(backlog / users) + 1
    for (let u = 0; u < users; u++) {
      const sender = `+3360${String(u).padStart(7, "0")}`
      const batch = Array.from({ length: perUser }, (_, n) => message(sender, n))
      yield* statements.acceptInbox([batch[0]!, ...batch.slice(1)], now)
    }
    // Every busy user's head goes in flight.
    for (let u = 0; u < users; u++) {
      const claimed = yield* statements.claimInbox(new Date(), new Date(Date.now() + leaseMillis))
      if (claimed.length === 0) return yield* Effect.die(new Error("a busy user's head could not be claimed"))
    }
    const [row] = yield* sql<{ pending: number }>`SELECT count(*)::int AS pending FROM inbox WHERE state = 'pending' AND lease_token IS NULL`
    return row?.pending ?? 0
  })

/** One free user's message, accepted then claimed (timed) and retired, `claims` times. */
const timeClaims = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const statements = messagingSql(sql)
  const times: Array<number> = []
  for (let i = 0; i < claims; i++) {
    const now = new Date()
    yield* statements.acceptInbox([message(`+3369${String(i).padStart(7, "0")}`, 0)], now)
    const started = performance.now()
    const [claimed] = yield* statements.claimInbox(new Date(), new Date(Date.now() + 60_000))
    times.push(performance.now() - started)
    if (claimed === undefined) return yield* Effect.die(new Error("the free user's message was not claimed"))
    yield* statements.settleInbox(claimed.id, claimed.lease_token, "done", new Date())
  }
  return times
})

const program = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  yield* (yield* makeMigrator()).up()
  const rows: Array<string> = []
  let worst = 0
  for (const state of ["fresh (no statistics)", "analysed"] as const) {
    yield* sql.unsafe(`ALTER TABLE inbox SET (autovacuum_enabled = ${state === "analysed"})`)
    yield* sql.unsafe(`ALTER TABLE inbox_queues SET (autovacuum_enabled = ${state === "analysed"})`)
    const medians: Array<number> = []
    for (const backlog of backlogs) {
      const queued = yield* fill(backlog)
      if (state === "analysed") yield* sql`ANALYZE inbox, inbox_queues`
      yield* timeClaims // a warm-up round (plans, buffers), discarded
      const times = yield* timeClaims
      const median = percentile(times, 0.5)
      medians.push(median)
      rows.push(`| ${state} | ${queued} | ${median.toFixed(3)} | ${percentile(times, 0.99).toFixed(3)} | ${medians.length > 1 ? (median / medians[0]!).toFixed(2) + "×" : "1.00× (baseline)"} |`)
    }
    worst = Math.max(worst, medians[1]! / medians[0]!)
  }
  console.log([
    `bench:backlog — ${claims} claims per cell, ${busyUsers} busy users, load ${loadavg().map((x) => x.toFixed(2)).join(" / ")}`,
    "",
    "| database | messages queued behind busy users | claim p50 (ms) | claim p99 (ms) | p50 ÷ p50 with 10 queued |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `worst ratio ${worst.toFixed(2)}× (goal ≤ 1.5×)`
  ].join("\n"))
})

withBenchDatabase("parley_backlog", (url) =>
  Effect.runPromise(program.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })))))
  .then(() => process.exit(0), (e) => {
    console.error(e)
    process.exit(1)
  })
