import { PgClient } from "@effect/sql-pg"
import { sessionHealth } from "@parley/adapters-pg"
import { Console, Duration, Effect, Schedule, Schema } from "effect"
import { invariantPolls, type Violation } from "./InvariantPolls.ts"
import { requireParleySchema } from "./SchemaCheck.ts"

/** The watch saw an invariant broken: the process exits non-zero at once. */
export class WatchViolation extends Schema.TaggedError<WatchViolation>()("WatchViolation", {
  invariant: Schema.String,
  firstRow: Schema.String
}) {
  override get message() {
    return `doctor --watch: ${this.invariant}: ${this.firstRow}`
  }
}

export interface WatchOptions {
  readonly interval: Duration.Duration
  /** Stop (exit 0) after this long without a violation; unset: until interrupted. */
  readonly for: Duration.Duration | undefined
}

/**
 * `parley doctor --watch`: the seed's verification queries (the unique index
 * is there, no user has two active sessions) and the invariant polls (no
 * user with two messages in flight, no message processed twice since the
 * watch began), every `interval`, each round in a READ ONLY transaction, so
 * it can watch a production database during a deploy. The first violation
 * ends it non-zero, printing the offending rows.
 */
export const watchDeployment = (options: WatchOptions) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    yield* requireParleySchema
    const health = yield* sessionHealth
    const started = Date.now()
    // A message stored just before the watch began may be the first of a pair.
    const polls = yield* invariantPolls({ _tag: "All", since: new Date(started - 5 * 60_000) })
    yield* Console.log(`watching every ${Duration.format(options.interval)}${options.for === undefined ? " until interrupted" : ` for ${Duration.format(options.for)}`}: unique index, active sessions per user, messages in flight per user, messages processed twice`)
    const round = sql.withTransaction(Effect.gen(function*() {
      yield* sql`SET TRANSACTION READ ONLY`
      const index: ReadonlyArray<Violation> = (yield* health.uniqueIndexPresent)
        ? []
        : [{ invariant: "unique index missing", count: 1, rows: ["idx_unique_active_session_per_user is not in pg_indexes"] }]
      return [...index, ...(yield* polls.all)]
    }))
    let rounds = 0
    while (options.for === undefined || Date.now() - started < Duration.toMillis(options.for)) {
      // A deploy's DDL can fail one round (a plan naming an index just dropped): retry it, then give up.
      const found = yield* round.pipe(
        Effect.tapError((e) => Console.log(`… round ${rounds + 1} failed (${e.message}); retrying`)),
        Effect.retry({ schedule: Schedule.spaced(options.interval), times: 3 })
      )
      rounds++
      if (found.length > 0) {
        for (const v of found) {
          yield* Console.log(`✗ ${v.invariant}: ${v.count}; first rows:`)
          for (const row of v.rows) yield* Console.log(`    ${row}`)
        }
        return yield* new WatchViolation({ invariant: found[0]!.invariant, firstRow: found[0]!.rows[0] ?? "" })
      }
      if (rounds === 1 || rounds % 30 === 0) yield* Console.log(`✓ round ${rounds}: no violation`)
      yield* Effect.sleep(options.interval)
    }
    yield* Console.log(`✓ ${rounds} rounds, no violation`)
  })
