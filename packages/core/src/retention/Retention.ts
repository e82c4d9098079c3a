import { Clock, Config, ConfigProvider, Context, Duration, Effect, Layer } from "effect"
import { runForever } from "../internal/runForever.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"

/**
 * Deleting what no longer serves: an inbox row is the deduplication key of
 * its message only while the provider may redeliver it, a sent or dead reply
 * only while an operator may look at it. The conversation itself (messages,
 * sessions) is not this port's to delete.
 */
export class Retention extends Context.Service<Retention, {
  /** Deletes at most `limit` done inbox rows completed before `before`; how many it deleted. */
  pruneInbox(before: number, limit: number): Effect.Effect<number, StoreUnavailable>
  /** Deletes at most `limit` sent replies sent before `before` and dead ones parked before it; how many. */
  pruneOutbox(before: number, limit: number): Effect.Effect<number, StoreUnavailable>
}>()("@parley/core/Retention") {}

/**
 * Providers' redelivery windows, the floor of any retention: Meta retries a
 * failed webhook with decreasing frequency for up to 7 days; Twilio retries
 * within its 15-second total timeout. A row pruned earlier would let a late
 * redelivery in as a new message.
 */
export const longestRedeliveryWindow = Duration.days(7)

/** `RETENTION` (default 30 days), refused below the providers' redelivery window. */
export const retentionConfig = Config.Duration("RETENTION").pipe(
  Config.withDefault(Duration.days(30)),
  Config.mapEffect((retention) =>
    Duration.isGreaterThan(retention, longestRedeliveryWindow)
      ? Effect.succeed(retention)
      : Effect.fail(new Config.ConfigError(new ConfigProvider.SourceError({
        message: `RETENTION must be longer than the providers' redelivery window (7 days), got ${Duration.format(retention)}`
      })))
  )
)

export interface PrunerOptions {
  readonly retention: Duration.Duration
  /** Time between rounds. */
  readonly every: Duration.Duration
  /** Rows per DELETE: small, so no statement holds many locks or runs long. */
  readonly batch: number
  /** Batches per table and round: a round is bounded even after a long outage; the rest waits for the next one. */
  readonly maxBatches: number
  /** Between two batches, so pruning never takes the database for itself. */
  readonly pause: Duration.Duration
}

export const defaultPrunerOptions = (retention: Duration.Duration): PrunerOptions => ({
  retention,
  every: Duration.minutes(10),
  batch: 500,
  maxBatches: 20,
  pause: Duration.millis(200)
})

const drain = (prune: (before: number, limit: number) => Effect.Effect<number, StoreUnavailable>, before: number, options: PrunerOptions) =>
  Effect.gen(function*() {
    let total = 0
    for (let i = 0; i < options.maxBatches; i++) {
      const deleted = yield* prune(before, options.batch)
      total += deleted
      if (deleted < options.batch) break
      yield* Effect.sleep(options.pause)
    }
    return total
  })

/** One round: everything older than the retention, in bounded batches, inbox then outbox. */
export const pruneOnce = (options: PrunerOptions) =>
  Effect.gen(function*() {
    const retention = yield* Retention
    const before = (yield* Clock.currentTimeMillis) - Duration.toMillis(options.retention)
    const inbox = yield* drain(retention.pruneInbox, before, options)
    const outbox = yield* drain(retention.pruneOutbox, before, options)
    if (inbox + outbox > 0) {
      yield* Effect.logInfo("pruned").pipe(Effect.annotateLogs({ event: "retention.pruned", inbox, outbox, before: new Date(before).toISOString() }))
    }
    return { inbox, outbox }
  })

/** Rounds forever; a round that fails (the database went away) is logged and the loop carries on. */
export const runPruner = (options: PrunerOptions) =>
  pruneOnce(options).pipe(Effect.andThen(Effect.sleep(options.every)), runForever("retention.error"))

export const PrunerLayer = (options: PrunerOptions): Layer.Layer<never, never, Retention> =>
  Layer.effectDiscard(Effect.forkScoped(runPruner(options)))
