import { Cause, Clock, Duration, Effect, Layer } from "effect"
import { defaultRetryPolicy, Inbox, type Claim, type RetryPolicy } from "./Inbox.ts"
import { count, inboxEvents } from "./PipelineMetrics.ts"
import { processMessage } from "./processMessage.ts"

export interface WorkerOptions {
  readonly concurrency: number
  /** How long a claim is held before another worker may take the message over. */
  readonly lease: Duration.Duration
  /** Longest sleep with no work: a safety net behind `awaitWork` wake-ups. */
  readonly idlePoll: Duration.Duration
  readonly retry: RetryPolicy
}

export const defaultWorkerOptions: WorkerOptions = {
  concurrency: 4,
  lease: Duration.seconds(60),
  idlePoll: Duration.seconds(5),
  retry: defaultRetryPolicy
}

type ProcessRequirements = Effect.Services<ReturnType<typeof processMessage>>

/**
 * Processes one claimed entry: the pipeline's turn is committed with the
 * entry, or the entry is failed (retry or dead). An interrupted worker gives
 * its claim back so another takes it at once instead of waiting for the lease.
 */
export const handleClaim = (claim: Claim, options: WorkerOptions) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const outcome = yield* processMessage(claim.entry.id, claim.entry.message).pipe(
      Effect.flatMap((turn) => inbox.complete(claim, turn)),
      Effect.as("processed" as const),
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.gen(function*() {
            const error = Cause.pretty(cause).split("\n")[0] ?? "failure"
            const result = yield* inbox.fail(claim, error, yield* Clock.currentTimeMillis, options.retry)
            yield* Effect.logWarning("processing failed").pipe(Effect.annotateLogs({
              event: result === "dead" ? "inbox.dead" : "inbox.retry",
              entryId: claim.entry.id,
              attempt: claim.entry.attempts,
              error
            }))
            return result === "dead" ? "dead" as const : "retried" as const
          })
      ),
      Effect.onInterrupt(() => inbox.release(claim).pipe(Effect.ignore))
    )
    yield* count(inboxEvents, { event: outcome })
    return outcome
  })

/** One worker: claim, process, repeat; sleep until woken when there is nothing to claim. */
export const workerLoop = (options: WorkerOptions) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const claim = yield* inbox.claim(yield* Clock.currentTimeMillis, options.lease)
    if (claim === undefined) return yield* inbox.awaitWork(options.idlePoll)
    yield* handleClaim(claim, options)
  }).pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.logError("worker iteration failed").pipe(
          Effect.annotateLogs({ event: "worker.error", cause: Cause.pretty(cause) }),
          Effect.andThen(Effect.sleep(Duration.seconds(1)))
        )
    ),
    Effect.forever
  )

/** `concurrency` workers for as long as the scope lives. Several processes may run them against one inbox. */
export const runWorkers = (options: WorkerOptions = defaultWorkerOptions) =>
  Effect.forEach(Array.from({ length: options.concurrency }, (_, i) => i), (i) =>
    workerLoop(options).pipe(Effect.annotateLogs({ worker: i })), { concurrency: "unbounded", discard: true })

export const WorkersLayer = (options: WorkerOptions = defaultWorkerOptions): Layer.Layer<never, never, Inbox | ProcessRequirements> =>
  Layer.effectDiscard(Effect.forkScoped(runWorkers(options)))
