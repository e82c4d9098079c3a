import { Cause, Clock, Duration, Effect, Fiber, Layer, Option } from "effect"
import { defaultRetryPolicy, Inbox, type Claim, type Completed, type LeaseLost, type RetryPolicy } from "./Inbox.ts"
import { ReplyHandoff } from "../delivery/ReplyHandoff.ts"
import { PipelineError } from "../pipeline/PipelineError.ts"
import { count, inboxEvents } from "../pipeline/PipelineMetrics.ts"
import { processMessage } from "../pipeline/processMessage.ts"
import { runForever } from "../internal/runForever.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"
import { whileStoreAway } from "../internal/whileStoreAway.ts"
import { describeUnexpected, observeStage } from "../pipeline/stage.ts"
import type { Turn } from "../conversation/Turn.ts"

export interface WorkerOptions {
  readonly concurrency: number
  /**
   * How long a claim is held before another worker may take the message over.
   * A live worker renews it every third of its length (so a slow model call
   * keeps it); a short lease only bounds how long a dead worker's message waits.
   */
  readonly lease: Duration.Duration
  /** Longest sleep with no work: a safety net behind `awaitWork` wake-ups. */
  readonly idlePoll: Duration.Duration
  readonly retry: RetryPolicy
}

/** Turns an inbox entry into its turn. `processMessage` in production; tests may substitute a variant. */
export type Process = typeof processMessage

export const defaultWorkerOptions: WorkerOptions = {
  concurrency: 4,
  lease: Duration.seconds(15),
  idlePoll: Duration.seconds(5),
  retry: defaultRetryPolicy
}

type ProcessRequirements = Effect.Services<ReturnType<typeof processMessage>>

/**
 * The pipeline's last stage: the turn and the inbox entry's completion in one
 * atomic step. A store failure is a `PipelineError` naming the stage; a lost
 * lease stays `LeaseLost`, since the message is another worker's now and this
 * one must not record a failure for it.
 *
 * With this process's sender at hand (`ReplyHandoff`), the commit also leases
 * the turn's reply to it and hands it over: it goes out without a claim. The
 * commit and the handover are one step a shutdown cannot cut in two, so a
 * leased reply is never left waiting for its lease.
 */
export const commitTurn = (claim: Claim, turn: Turn, lease: Duration.Duration = defaultWorkerOptions.lease) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const handoff = yield* Effect.serviceOption(ReplyHandoff)
    // Only while the sender has a free slot: handed-over replies count against its concurrency.
    const leaseFor = Option.isSome(handoff) && turn.replies.length > 0 && (yield* handoff.value.hasRoom) ? handoff.value.leaseMillis : undefined
    const commitAndHandOver = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      inbox.complete(claim, turn, { now, ...(leaseFor === undefined ? {} : { leaseRepliesFor: leaseFor }) })
    ).pipe(Effect.tap((completed) => (Option.isSome(handoff) && completed.leased.length > 0 ? handoff.value.handOver(completed.leased) : Effect.void)))
    // Uninterruptible as a whole, retries included (bounded by the lease): a shutdown between an
    // attempt whose answer was lost and its retry would leave the reply it leased for a whole lease.
    return yield* whileStoreAway(commitAndHandOver, lease).pipe(
      Effect.uninterruptible,
      Effect.catchTag("StoreUnavailable", (e) => Effect.fail(new PipelineError({ stage: "commit", message: e.message })))
    )
  }).pipe(observeStage("commit"))

/** How a claim ended, and whether more work may be claimable (a worker told `false` sleeps without claiming). */
export interface Handled {
  readonly outcome: "processed" | "dead" | "retried"
  readonly more: boolean
}

/** The entry's recorded error names the failed stage first: what an operator reading a dead entry needs. */
const describeFailure = (cause: Cause.Cause<unknown>): { readonly error: string; readonly stage?: string } => {
  const failure = Option.getOrUndefined(Cause.findErrorOption(cause))
  if (failure instanceof PipelineError) return { error: `${failure.stage}: ${failure.message}`, stage: failure.stage }
  // Outside any stage: still its short name and message, never a module path or a stack.
  return { error: `unknown stage: ${describeUnexpected(failure ?? Cause.squash(cause))}` }
}

/**
 * Processes one claimed entry: the pipeline's turn is committed with the
 * entry, or the entry is failed (retry or dead). An interrupted worker gives
 * its claim back so another takes it at once instead of waiting for the lease.
 */
export const handleClaim = (claim: Claim, options: WorkerOptions, process: Process = processMessage) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    // A slow stage (a model call) must not let another worker take the message
    // over while this one is alive: renew the lease at a third of its length.
    const heartbeat = yield* Effect.gen(function*() {
      let current = claim
      while (true) {
        yield* Effect.sleep(Duration.millis(Duration.toMillis(options.lease) / 3))
        current = yield* inbox.extend(current, yield* Clock.currentTimeMillis, options.lease)
      }
    }).pipe(Effect.ignore, Effect.forkChild)
    const handled = yield* process(claim.entry.message).pipe(
      Effect.flatMap((turn) => commitTurn(claim, turn, options.lease)),
      Effect.map((completed: Completed): Handled => ({ outcome: "processed", more: completed.more })),
      Effect.catchCause((cause): Effect.Effect<Handled, LeaseLost | PipelineError | StoreUnavailable> =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.gen(function*() {
            const { error, stage } = describeFailure(cause)
            const result = yield* whileStoreAway(
              Effect.flatMap(Clock.currentTimeMillis, (now) => inbox.fail(claim, error, now, options.retry)),
              options.lease
            )
            yield* Effect.logWarning("processing failed").pipe(Effect.annotateLogs({
              event: result === "dead" ? "inbox.dead" : "inbox.retry",
              entryId: claim.entry.id,
              attempt: claim.entry.attempts,
              ...(stage === undefined ? {} : { stage }),
              error
            }))
            return { outcome: result === "dead" ? "dead" : "retried", more: true }
          })
      ),
      Effect.onInterrupt(() => inbox.release(claim).pipe(Effect.ignore)),
      Effect.ensuring(Fiber.interrupt(heartbeat))
    )
    yield* count(inboxEvents, { event: handled.outcome })
    return handled
  }).pipe(
    // The parent of the message's spans: `processMessage` (and its stages) and `stage.commit`.
    Effect.withSpan("handleClaim", { attributes: { "parley.inbox_entry": claim.entry.id, "parley.attempt": claim.entry.attempts } }, { captureStackTrace: false })
  )

/**
 * One worker: claim, process, repeat; sleep until woken when there is nothing
 * to claim — found by an empty claim, or told by the commit (no empty claim
 * then: a message accepted meanwhile wakes the worker, whose wake-up is kept).
 */
export const workerLoop = (options: WorkerOptions, process: Process = processMessage) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    // A shutdown between the claim and its handling would leave the message
    // leased, its user blocked for a whole lease: once claimed, the handling
    // starts (and, interrupted, gives the claim back).
    const more = yield* Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        const claim = yield* inbox.claim(yield* Clock.currentTimeMillis, options.lease)
        if (claim === undefined) return false
        const handled = yield* restore(handleClaim(claim, options, process)).pipe(Effect.onInterrupt(() => inbox.release(claim).pipe(Effect.ignore)))
        return handled.more
      })
    )
    if (!more) yield* inbox.awaitWork(options.idlePoll)
  }).pipe(runForever("worker.error"))

/** `concurrency` workers for as long as the scope lives. Several processes may run them against one inbox. */
export const runWorkers = (options: WorkerOptions = defaultWorkerOptions, process: Process = processMessage) =>
  Effect.forEach(Array.from({ length: options.concurrency }, (_, i) => i), (i) =>
    workerLoop(options, process).pipe(Effect.annotateLogs({ worker: i })), { concurrency: "unbounded", discard: true })

export const WorkersLayer = (options: WorkerOptions = defaultWorkerOptions): Layer.Layer<never, never, Inbox | ProcessRequirements> =>
  Layer.effectDiscard(Effect.forkScoped(runWorkers(options)))
