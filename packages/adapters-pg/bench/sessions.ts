// npm run bench:sessions — session resolution through the adapter vs the very
// same statement in the simplest client loop on the same pool, at 1, 16 and 64
// callers, for a hot user set (4) and a spread one (10,000); the strategy 0003
// rejected (row lock + ON CONFLICT) against the chosen one (advisory lock); and
// the round trips per resolution, counted on the wire.
//
// Fairness: one pool of 64 connections, opened and warmed (every statement
// prepared on every connection) before anything is measured, and kept open
// for the whole run; every cell warms all its paths at its own concurrency;
// the paths of a cell then run in rotating order (all 6 orders of the 3 paths
// in every 6 rounds) so drift in the machine's load hits each alike; ops/s
// (calls completed within each run's window) and percentiles pool all runs of
// a path. Callers pick users from one shared round-robin counter.
//
// Environment: DATABASE_URL (else an embedded Postgres), BENCH_SECONDS per run
// (default 0.5), BENCH_ROUNDS runs per path and cell (default 12), BENCH_ONLY to
// run only the cells whose label contains it.
import { PgClient } from "@effect/sql-pg"
import { SessionStore, UserId } from "@parley/core"
import { DateTime, Duration, Effect, Layer, Redacted } from "effect"
import { cpus, loadavg } from "node:os"
import { withBenchDatabase } from "./benchDatabase.ts"
import { makeMigrator } from "../src/Migrations.ts"
import { PgSessionStore } from "../src/PgSessionStore.ts"
import { startWireTap } from "../test/support/wireTap.ts"

const secondsPerRun = Number(process.env["BENCH_SECONDS"] ?? 0.5)
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 12)
const only = process.env["BENCH_ONLY"] ?? ""
const poolSize = 64
const policy = { idleTimeout: Duration.minutes(30) }
const interval = `${Duration.toMillis(policy.idleTimeout)} milliseconds`
const step = 31 * 60_000 // past the idle timeout

const load = () => loadavg().map((x) => x.toFixed(2)).join(" / ")

// The strategy 0003 measured against and rejected: lock the active row, then
// insert with ON CONFLICT on the partial index, looping on a lost race. Same
// result columns as parley_get_or_create_session, so both are read alike.
const rowLockVariant = `
CREATE OR REPLACE FUNCTION bench_get_or_create_row_lock(p_subcontractor_id uuid, p_idle_timeout interval, p_now timestamptz)
RETURNS TABLE (id uuid, subcontractor_id uuid, status text, created_at timestamptz, last_message_at timestamptz,
               ended_at timestamptz, end_reason text, outcome text, expired_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v conversation_sessions%ROWTYPE;
  v_expired uuid;
BEGIN
  LOOP
    SELECT s.* INTO v FROM conversation_sessions s
    WHERE s.subcontractor_id = p_subcontractor_id AND s.status = 'active' FOR UPDATE;
    IF FOUND AND p_now - v.last_message_at <= p_idle_timeout THEN
      UPDATE conversation_sessions s SET last_message_at = greatest(s.last_message_at, p_now)
      WHERE s.id = v.id RETURNING s.* INTO v;
      RETURN QUERY SELECT v.id, v.subcontractor_id, v.status, v.created_at, v.last_message_at, v.ended_at, v.end_reason,
        'reused'::text, NULL::uuid;
      RETURN;
    END IF;
    IF FOUND THEN
      UPDATE conversation_sessions s SET status = 'ended', end_reason = 'timeout', ended_at = p_now WHERE s.id = v.id;
      v_expired := v.id;
    END IF;
    INSERT INTO conversation_sessions AS s (subcontractor_id, status, created_at, last_message_at)
    VALUES (p_subcontractor_id, 'active', p_now, p_now)
    ON CONFLICT (subcontractor_id) WHERE status = 'active' DO NOTHING
    RETURNING s.* INTO v;
    IF FOUND THEN
      RETURN QUERY SELECT v.id, v.subcontractor_id, v.status, v.created_at, v.last_message_at, v.ended_at, v.end_reason,
        CASE WHEN v_expired IS NULL THEN 'created' ELSE 'expired_then_created' END, v_expired;
      RETURN;
    END IF;
  END LOOP;
END $$`

// The seed's own design: read, then insert, guarded only by the partial unique
// index; a caller that loses the race gets a unique violation and retries.
const seedVariant = `
CREATE OR REPLACE FUNCTION bench_seed_get_or_create(p_subcontractor_id uuid, p_idle_timeout interval, p_now timestamptz)
RETURNS TABLE (id uuid, subcontractor_id uuid, status text, created_at timestamptz, last_message_at timestamptz,
               ended_at timestamptz, end_reason text, outcome text, expired_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v conversation_sessions%ROWTYPE;
  v_expired uuid;
BEGIN
  SELECT s.* INTO v FROM conversation_sessions s
  WHERE s.subcontractor_id = p_subcontractor_id AND s.status = 'active'
  ORDER BY s.created_at DESC LIMIT 1;
  IF FOUND AND p_now - v.last_message_at <= p_idle_timeout THEN
    UPDATE conversation_sessions s SET last_message_at = greatest(s.last_message_at, p_now)
    WHERE s.id = v.id RETURNING s.* INTO v;
    RETURN QUERY SELECT v.id, v.subcontractor_id, v.status, v.created_at, v.last_message_at, v.ended_at, v.end_reason,
      'reused'::text, NULL::uuid;
    RETURN;
  END IF;
  IF FOUND THEN
    UPDATE conversation_sessions s SET status = 'ended', end_reason = 'timeout', ended_at = p_now WHERE s.id = v.id;
    v_expired := v.id;
  END IF;
  INSERT INTO conversation_sessions AS s (subcontractor_id, status, created_at, last_message_at)
  VALUES (p_subcontractor_id, 'active', p_now, p_now)
  RETURNING s.* INTO v;
  RETURN QUERY SELECT v.id, v.subcontractor_id, v.status, v.created_at, v.last_message_at, v.ended_at, v.end_reason,
    CASE WHEN v_expired IS NULL THEN 'created' ELSE 'expired_then_created' END, v_expired;
END $$`

interface Now {
  readonly utc: DateTime.Utc
  readonly date: Date
}
const nowAt = (ms: number): Now => ({ utc: DateTime.makeUnsafe(ms), date: new Date(ms) })

type Path = (user: string, now: Now) => Effect.Effect<unknown, unknown>

interface Run {
  readonly ops: number
  readonly seconds: number
  readonly latencies: Array<number>
}

// Throughput counts the calls completed within the run's window, over the
// window: the drain after the deadline (callers finishing the call they are
// in) is left out, or a path with a long tail would be charged for its
// slowest call as if nothing else were completing meanwhile. Latencies
// include every call started within the window, drained ones too.
const run = (callers: number, users: ReadonlyArray<string>, nextNow: () => Now, path: Path, seconds: number) =>
  Effect.gen(function*() {
    const latencies: Array<number> = []
    const started = performance.now()
    const deadline = started + seconds * 1000
    let completed = 0
    let next = 0
    const caller = Effect.gen(function*() {
      while (performance.now() < deadline) {
        const user = users[next++ % users.length]!
        const now = nextNow()
        const t0 = performance.now()
        yield* path(user, now)
        const t1 = performance.now()
        latencies.push(t1 - t0)
        if (t1 <= deadline) completed++
      }
    })
    yield* Effect.all(Array.from({ length: callers }, () => caller), { concurrency: "unbounded", discard: true })
    return { ops: completed, seconds, latencies } satisfies Run
  })

interface Summary {
  readonly rate: number
  readonly p50: number
  readonly p99: number
  readonly rates: ReadonlyArray<number>
}

const summarize = (runs: ReadonlyArray<Run>): Summary => {
  const ops = runs.reduce((n, r) => n + r.ops, 0)
  const seconds = runs.reduce((n, r) => n + r.seconds, 0)
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return {
    rate: ops / seconds,
    p50: at(0.5),
    p99: at(0.99),
    rates: runs.map((r) => r.ops / r.seconds)
  }
}

const f0 = (x: number) => x.toFixed(0)
const f2 = (x: number) => x.toFixed(2)
const latency = (s: Summary) => `${f2(s.p50)} / ${f2(s.p99)}`

const program = (url: string) => Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const store = yield* SessionStore
  yield* (yield* makeMigrator()).up()
  yield* sql.unsafe(rowLockVariant)
  yield* sql.unsafe(seedVariant)
  yield* sql`INSERT INTO subcontractors (id, phone, display_name)
             SELECT gen_random_uuid(), '+3360' || lpad(g::text, 7, '0'), 'Bench ' || g FROM generate_series(1, 10108) g`
  const all = (yield* sql<{ id: string }>`SELECT id::text AS id FROM subcontractors ORDER BY phone`).map((r) => r.id)
  const hot = all.slice(0, 4)
  const spread = all.slice(4, 10_004)
  const expiring = all.slice(10_004, 10_008)
  const fresh = all.slice(10_008) // 100 users that never had a session, for the round-trip count of creations
  const start = Date.now()
  const fixedNow = nowAt(start)

  // ---- Round trips, counted on the wire -------------------------------------------------------
  // The adapter on a pool of its own that connects through the tap; the tap also
  // records the exact statement text the adapter sends, which the raw loop below reuses.
  // Every call on the expiring users is 31 minutes after the previous one (round trips, then throughput).
  let expiringClock = start
  const tap = yield* Effect.promise(() => startWireTap(url))
  const roundTrips = yield* Effect.gen(function*() {
    const tapped = yield* SessionStore
    const rows: Array<string> = []
    let exact = true // one round trip per resolution in every row
    const count = (label: string, calls: number, body: Effect.Effect<ReadonlyArray<string>, unknown>) =>
      Effect.gen(function*() {
        tap.reset()
        const outcomes = yield* body
        const c = tap.counts()
        exact &&= c.roundTrips === calls
        rows.push(`| ${label} | ${calls} | ${[...new Set(outcomes)].join(", ")} | ${c.roundTrips} | ${f2(c.roundTrips / calls)} | ${f2(c.readyForQuery / calls)} | ${f2(c.executes / calls)} | ${c.parses} |`)
        return c
      })
    const resolve = (user: string, now: Now) => Effect.map(tapped.getOrCreateActive(UserId.make(user), now.utc, policy), (r) => r.outcome)
    const n = 100
    yield* count("first call on a new connection", 1, Effect.map(resolve(hot[0]!, fixedNow), (o) => [o]))
    // Open and warm the tapped pool's 4 connections, and give expiring[0] a session to expire.
    yield* Effect.forEach(Array.from({ length: 64 }, (_, i) => hot[i % 4]!), (u) => resolve(u, fixedNow), { concurrency: 16 })
    yield* resolve(expiring[0]!, fixedNow)
    yield* count("created (new users, one at a time)", n, Effect.forEach(fresh, (u) => resolve(u, fixedNow)))
    yield* count("reused (same user, one at a time)", n, Effect.forEach(Array.from({ length: n }), () => resolve(hot[0]!, fixedNow)))
    yield* count("expired then created (one at a time)", n, Effect.forEach(Array.from({ length: n }), () => resolve(expiring[0]!, nowAt(expiringClock += step))))
    yield* count("16 concurrent callers, 4 users, pool of 4", 4 * n, Effect.forEach(Array.from({ length: 4 * n }, (_, i) => hot[i % 4]!), (u) => resolve(u, fixedNow), { concurrency: 16 }))
    const statements = [...new Set(tap.executed())].filter((s) => s.includes("FROM parley_get_or_create_session($1"))
    if (statements.length !== 1) return yield* Effect.die(new Error(`expected one statement text, saw ${statements.length}`))
    return { rows, exact, statement: statements[0]! }
  }).pipe(
    // Layer.fresh: the run's memo map would otherwise hand back the store built on the main pool.
    Effect.provide(Layer.fresh(PgSessionStore).pipe(Layer.provide(PgClient.layer({ url: Redacted.make(tap.url), maxConnections: 4 }))))
  )
  yield* Effect.promise(() => tap.close())

  // ---- Throughput -----------------------------------------------------------------------------
  const paths: Record<string, Path> = {
    adapter: (user, now) => store.getOrCreateActive(UserId.make(user), now.utc, policy),
    // The statement the adapter sent (captured above), with nothing around it: no decoding, no domain objects.
    raw: (user, now) => sql.unsafe(roundTrips.statement, [user, interval, now.date]),
    // The rejected strategy, read the same way as `raw`.
    rowLock: (user, now) =>
      sql.unsafe(roundTrips.statement.replace("parley_get_or_create_session", "bench_get_or_create_row_lock"), [user, interval, now.date]),
    // The seed's RPC, read the same way, retried by its caller on a unique violation (counted).
    seed: (user, now) => {
      const attempt: Effect.Effect<unknown, unknown> = sql.unsafe(roundTrips.statement.replace("parley_get_or_create_session", "bench_seed_get_or_create"), [user, interval, now.date]).pipe(
        Effect.catchReason("SqlError", "UniqueViolation", () => Effect.suspend(() => { seedRetries++; return attempt }))
      )
      return attempt
    }
  }
  let seedRetries = 0
  const order = Object.keys(paths)
  // Round r runs the paths rotated by r, reversed every other round: over 2n
  // rounds each path runs in every position equally often, before and after each other.
  const orders = Array.from({ length: 2 * order.length }, (_, r) => {
    const rotated = order.map((_, i) => order[(i + r) % order.length]!)
    return r % 2 === 0 ? rotated : rotated.reverse()
  })

  // Open all 64 connections and prepare every path's statement on each, then
  // give every spread user its session, so that no measured run pays for
  // connecting, preparing, or for first-time creations the other path would not.
  for (const name of order) yield* run(poolSize, hot, () => fixedNow, paths[name]!, 0.5)
  yield* Effect.forEach(spread, (u) => paths["raw"]!(u, fixedNow), { concurrency: 16, discard: true })

  const workloads = [
    { label: "hot (4 users)", users: hot, nextNow: () => fixedNow },
    { label: "spread (10,000 users)", users: spread, nextNow: () => fixedNow },
    // Every call 31 minutes after the previous one: each user's session keeps
    // expiring and being replaced, the write-heavy path of both strategies.
    { label: "hot, expiring (4 users)", users: expiring, nextNow: () => nowAt(expiringClock += step) },
    // One call in twenty comes after the idle timeout.
    { label: "hot, 1 in 20 expiring (4 users)", users: expiring, nextNow: () => nowAt(++oneIn20 % 20 === 0 ? (expiringClock += step) : expiringClock) }
  ]
  let oneIn20 = 0

  const adapterLines = [
    "| users | callers | adapter ops/s | adapter p50 / p99 ms | raw SQL ops/s | raw p50 / p99 ms | adapter / raw | paired runs: median (range) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  const seedLines = [
    "| users | callers | parley ops/s | p50 / p99 ms | seed's RPC ops/s | p50 / p99 ms | parley / seed | paired runs: median (range) | parley p50 ÷ seed p50 |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  const strategyLines = [
    "| users | callers | advisory lock (chosen) ops/s | p50 / p99 ms | row lock + ON CONFLICT ops/s | p50 / p99 ms | row lock / advisory | paired runs: median (range) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  const loadAtStart = load()
  for (const { label, users, nextNow } of workloads) {
    if (!label.includes(only)) continue
    for (const callers of [1, 16, 64]) {
      for (const name of order) yield* run(callers, users, nextNow, paths[name]!, 0.25)
      const runs: Record<string, Array<Run>> = Object.fromEntries(order.map((name) => [name, []]))
      for (let r = 0; r < rounds; r++) {
        for (const name of orders[r % orders.length]!) {
          runs[name]!.push(yield* run(callers, users, nextNow, paths[name]!, secondsPerRun))
        }
      }
      const a = summarize(runs["adapter"]!)
      const raw = summarize(runs["raw"]!)
      const lock = summarize(runs["rowLock"]!)
      const seed = summarize(runs["seed"]!)
      // Each run of a path against the run of the other path in the same round:
      // the median of those paired ratios, and their range.
      const range = (x: Summary, y: Summary) => {
        const ratios = x.rates.map((rate, i) => rate / y.rates[i]!).sort((a, b) => a - b)
        const mid = ratios.length / 2
        const median = ratios.length % 2 === 1 ? ratios[Math.floor(mid)]! : (ratios[mid - 1]! + ratios[mid]!) / 2
        return `${f2(median)}× (${f2(ratios[0]!)}–${f2(ratios.at(-1)!)})`
      }
      adapterLines.push(
        `| ${label} | ${callers} | ${f0(a.rate)} | ${latency(a)} | ${f0(raw.rate)} | ${latency(raw)} | ${f2(a.rate / raw.rate)}× | ${range(a, raw)} |`
      )
      strategyLines.push(`| ${label} | ${callers} | ${f0(raw.rate)} | ${latency(raw)} | ${f0(lock.rate)} | ${latency(lock)} | ${f2(lock.rate / raw.rate)}× | ${range(lock, raw)} |`)
      seedLines.push(`| ${label} | ${callers} | ${f0(raw.rate)} | ${latency(raw)} | ${f0(seed.rate)} | ${latency(seed)} | ${f2(raw.rate / seed.rate)}× | ${range(raw, seed)} | ${f2(raw.p50 / seed.p50)} |`)
      console.error(`${adapterLines.at(-1)}\n${strategyLines.at(-1)}\n${seedLines.at(-1)}  [load ${load()}]`)
    }
  }
  const dupes = yield* sql`SELECT subcontractor_id, COUNT(*) FROM conversation_sessions WHERE status='active' GROUP BY subcontractor_id HAVING COUNT(*) > 1`
  console.log([
    `load average (1 / 5 / 15 min) at the start: ${loadAtStart}; at the end: ${load()} (${cpus().length} cores, shared by this process, Postgres and anything else running)`,
    "",
    "Adapter vs raw SQL (the same statement on the same pool):",
    "",
    ...adapterLines,
    "",
    "Strategies (raw loop, same columns):",
    "",
    ...strategyLines,
    "",
    `parley against the seed's read-then-insert RPC retried on unique violations (raw loops, same columns; the seed's callers retried ${seedRetries} times):`,
    "",
    ...seedLines,
    "",
    `Round trips per session resolution through the adapter, counted on the wire (client turns; ReadyForQuery and Execute messages as a cross-check):`,
    "",
    "| calls | n | outcomes | round trips | per resolution | ReadyForQuery per resolution | statements per resolution | statements prepared |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ...roundTrips.rows,
    "",
    `duplicate active sessions after the run: ${dupes.length}`,
    `${rounds} runs of ${secondsPerRun} s per path and cell, in rotating order (ops/s, ratio and percentiles over all runs of a path; paired: run i of one path against run i of the other); pool of ${poolSize} connections, one process.`
  ].join("\n"))
  if (dupes.length > 0 || !roundTrips.exact) {
    return yield* Effect.die(new Error("the run broke the invariant or the round-trip target"))
  }
})

const main = () =>
  withBenchDatabase("parley_bench", (url) => {
    const client = PgClient.layer({ url: Redacted.make(url), maxConnections: poolSize, idleTimeout: Duration.minutes(30) })
    return Effect.runPromise(program(url).pipe(Effect.provide(PgSessionStore.pipe(Layer.provideMerge(client)))))
  })

main().then(() => process.exit(0), (e) => {
  console.error(e)
  process.exit(1)
})
