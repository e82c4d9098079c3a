import { PgClient } from "@effect/sql-pg"
import { Console, Duration, Effect, Fiber, type Redacted, Schema } from "effect"
import { adapterLoad } from "./AdapterLoad.ts"
import { makeBudget } from "./Budget.ts"
import { makeCallRecorder } from "./CallRecorder.ts"
import { engineLoad, type EngineReport, foreignInboxActivity } from "./EngineLoad.ts"
import { invariantPolls, type Violation } from "./InvariantPolls.ts"
import { makeLoadContext } from "./LoadContext.ts"
import { makePrng } from "./Prng.ts"
import { createReservedUsers, removeReservedUsers } from "./ReservedUsers.ts"
import { HammerRefused, requireParleySchema } from "./SchemaCheck.ts"
import { sqlLoad } from "./SqlLoad.ts"

export const HammerMode = Schema.Literals(["sql", "adapter", "engine"])
export type HammerMode = typeof HammerMode.Type

export interface HammerOptions {
  readonly url: Redacted.Redacted<string>
  readonly mode: HammerMode
  readonly users: number
  readonly callers: number
  /** Calls (sql, adapter) or messages (engine); with `duration`, whichever ends first. */
  readonly count: number | undefined
  readonly duration: Duration.Duration | undefined
  readonly idleTimeout: Duration.Duration
  readonly seed: number
  readonly connections: number
  readonly pools: number
  readonly pollInterval: Duration.Duration
}

/** The run broke an invariant, or callers saw errors: the process exits non-zero. */
export class HammerFailed extends Schema.TaggedError<HammerFailed>()("HammerFailed", {
  violations: Schema.Array(Schema.String),
  errors: Schema.Number
}) {
  override get message() {
    const parts = [
      ...this.violations,
      ...(this.errors > 0 ? [`${this.errors} call(s) failed`] : [])
    ]
    return `hammer: ${parts.join("; ")}`
  }
}

const ms = (millis: number) => `${millis.toFixed(1)} ms`

/**
 * `parley hammer`: concurrent load on the database's own functions, adapter
 * or engine, with the invariants polled while it runs and once after it.
 * The `PgClient` in context reads the polls (and creates and removes the
 * run's users); the load gets connections of its own from `url`.
 */
export const runHammer = (options: HammerOptions) =>
  Effect.gen(function*() {
    yield* requireParleySchema
    if (options.mode === "engine") {
      const foreign = yield* foreignInboxActivity
      if (foreign.pending > 0 || foreign.recent > 0) {
        return yield* new HammerRefused({
          message: `engine mode runs workers on the shared inbox, and this one is live (${foreign.pending} real messages pending, ${foreign.recent} accepted in the last 10 minutes): run it on staging, or use --mode sql or --mode adapter, which only touch the hammer's own users`
        })
      }
    }
    const reserved = yield* createReservedUsers(options.users)
    const describe = `mode ${options.mode}, ${options.users} users, ${options.callers} callers, ${options.count === undefined ? "" : `${options.count} calls `}${options.duration === undefined ? "" : `for ${Duration.format(options.duration)} `}idle timeout ${Duration.format(options.idleTimeout)}, seed ${options.seed}`
    yield* Console.log(`parley hammer: ${describe}; users +999…, marker "${reserved.marker}"`)

    return yield* Effect.gen(function*() {
      const polls = yield* invariantPolls({ _tag: "Marked", marker: reserved.marker })
      const seen = new Map<string, { violation: Violation; polls: number }>()
      let pollCount = 0
      const record = (found: ReadonlyArray<Violation>) => {
        pollCount++
        for (const v of found) {
          const before = seen.get(v.invariant)
          seen.set(v.invariant, { violation: before?.violation ?? v, polls: (before?.polls ?? 0) + 1 })
        }
      }
      const poller = yield* Effect.gen(function*() {
        while (true) {
          record(yield* polls.all)
          yield* Effect.sleep(options.pollInterval)
        }
      }).pipe(Effect.forkChild)

      const recorder = makeCallRecorder()
      const context = makeLoadContext({
        reserved,
        callerCount: options.callers,
        idleTimeout: options.idleTimeout,
        budget: makeBudget({ count: options.count, duration: options.duration }),
        prng: makePrng(options.seed),
        recorder
      })
      const loadPool = PgClient.layer({ url: options.url, maxConnections: options.connections })
      const started = performance.now()
      let engine: EngineReport | undefined
      if (options.mode === "sql") yield* sqlLoad(context).pipe(Effect.provide(loadPool))
      if (options.mode === "adapter") yield* adapterLoad(context).pipe(Effect.provide(loadPool))
      if (options.mode === "engine") {
        const workersPerPool = Math.max(1, Math.ceil(options.callers / options.pools))
        engine = yield* engineLoad(context, {
          url: options.url,
          pools: options.pools,
          workersPerPool,
          // Each pool's LISTEN (inbox and outbox) holds two connections for good; below that, workers wait forever.
          connectionsPerPool: Math.max(workersPerPool + 3, Math.ceil(options.connections / options.pools)),
          drainTimeout: Duration.seconds(60)
        })
      }
      const elapsed = (performance.now() - started) / 1000
      yield* Fiber.interrupt(poller)
      record(yield* polls.all)

      const stats = recorder.snapshot()
      const errorCount = [...stats.errors.values()].reduce((a, b) => a + b, 0)
      yield* Console.log(`calls: ${stats.calls} in ${elapsed.toFixed(1)} s (${(stats.calls / Math.max(elapsed, 0.001)).toFixed(0)}/s), ${stats.calls - errorCount} ok, ${errorCount} failed; latency p50 ${ms(stats.p50)}, p99 ${ms(stats.p99)}`)
      for (const [kind, n] of stats.errors) yield* Console.log(`  errors ${kind}: ${n} (first: ${stats.firstErrors.get(kind)})`)

      const failures: Array<string> = []
      if (engine !== undefined) {
        yield* Console.log(`engine: ${engine.sent} messages sent, ${engine.redelivered} redelivered; inbox accepted ${engine.accepted}, recognised ${engine.duplicates} duplicates; processing (accepted → committed) p50 ${ms(engine.processingP50)}, p99 ${ms(engine.processingP99)}`)
        if (engine.foreignClaims > 0) {
          failures.push(`stopped: a worker claimed ${engine.foreignClaims} real user's message(s) (given back untouched); run engine mode on a database without live traffic`)
        }
        if (engine.accepted !== engine.sent || engine.duplicates !== engine.redelivered) {
          failures.push(`redelivery: ${engine.sent} new and ${engine.redelivered} redelivered messages, but the inbox accepted ${engine.accepted} and recognised ${engine.duplicates} duplicates`)
        }
        if (engine.unprocessed.length > 0) {
          record([{
            invariant: "an accepted message not processed",
            count: engine.unprocessed.length,
            rows: engine.unprocessed.slice(0, 5).map((u) => `message ${u.providerMessageId}: ${u.state}${u.lastError === null ? "" : ` (${u.lastError})`}`)
          }])
        }
        if (engine.doneWithoutMessage.length > 0) {
          record([{ invariant: "an accepted message not processed", count: engine.doneWithoutMessage.length, rows: engine.doneWithoutMessage.slice(0, 5).map((id) => `message ${id}: done, no inbound message stored`) }])
        }
      }

      yield* Console.log(`polls: ${pollCount}, every ${Duration.format(options.pollInterval)}`)
      if (seen.size === 0) {
        yield* Console.log("✓ never two active sessions per user; never two messages of a user in flight; every accepted message processed once")
      }
      for (const { violation, polls: n } of seen.values()) {
        yield* Console.log(`✗ ${violation.invariant}: ${violation.count} (seen in ${n} poll(s)); first rows:`)
        for (const row of violation.rows) yield* Console.log(`    ${row}`)
        failures.push(`${violation.invariant}: ${violation.rows[0] ?? violation.count}`)
      }
      if (failures.length > 0 || errorCount > 0) return yield* new HammerFailed({ violations: failures, errors: errorCount })
    }).pipe(Effect.ensuring(removeReservedUsers(reserved.marker).pipe(
      Effect.flatMap((n) => Console.log(`cleaned up: ${n} hammer users and everything they caused`)),
      Effect.catch((e) => Console.error(`parley hammer: cleanup of "${reserved.marker}" failed (${e.message}); run it again or delete users with that display name`))
    )))
  })
