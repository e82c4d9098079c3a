import { Cause, Clock, Duration, Effect, Fiber, Layer } from "effect"
import { ReplyHandoff } from "./ReplyHandoff.ts"
import { Messenger, SendFailed } from "../channel/Messenger.ts"
import { Outbox, type OutboxEntry } from "./Outbox.ts"
import { runForever } from "../internal/runForever.ts"
import { maskAddress } from "../channel/UserAddress.ts"
import { count, outboxEvents } from "../pipeline/PipelineMetrics.ts"
import { makeWakeSignal } from "../intake/WakeSignal.ts"
import { whileStoreAway } from "../internal/whileStoreAway.ts"

export interface SenderOptions {
  /** Replies claimed at most per claim. */
  readonly batch: number
  /**
   * Replies in flight at once. Each recipient has at most one (`claimDue`
   * hands out only each recipient's oldest pending reply), so a slow or hung
   * recipient holds one slot and everyone else keeps receiving.
   */
  readonly concurrency: number
  readonly leaseMillis: number
  /**
   * The longest a provider call may take; shorter than `leaseMillis`, so a
   * live sender records every outcome before another may take the reply over.
   */
  readonly sendTimeoutMillis: number
  readonly idlePollMillis: number
  readonly maxAttempts: number
  readonly backoffMillis: (attempt: number) => number
}

export const defaultSenderOptions: SenderOptions = {
  batch: 20,
  concurrency: 8,
  leaseMillis: 30_000,
  sendTimeoutMillis: 10_000,
  idlePollMillis: 5_000,
  maxAttempts: 8,
  backoffMillis: (attempt) => Math.min(1000 * 2 ** (attempt - 1), 300_000)
}

/** Refuses options under which a live sender could lose its lease mid-send (and a reply go out twice). */
export const checkSenderOptions = (options: SenderOptions): SenderOptions => {
  if (!(options.sendTimeoutMillis > 0 && options.sendTimeoutMillis < options.leaseMillis)) {
    throw new RangeError(`the send timeout (${options.sendTimeoutMillis} ms) must be positive and shorter than the outbox lease (${options.leaseMillis} ms)`)
  }
  return options
}

/**
 * Sends one reply, bounded by the send timeout (a provider that does not
 * answer is a retryable `timeout`); a retryable failure is rescheduled with
 * backoff, anything else is parked as dead. Outcomes are recorded under the
 * entry's claim token: a claim that went stale records nothing but a copy it
 * did deliver (counted as `duplicate`). Returns whether the reply is now
 * recorded sent, and when the sender should claim again for what this
 * delivery leaves behind: now (the recipient has another reply pending, or
 * this one was parked or taken over), at the retry's time, or never.
 */
export const deliver = (entry: OutboxEntry, options: SenderOptions) =>
  Effect.gen(function*() {
    const outbox = yield* Outbox
    const messenger = yield* Messenger
    const sent = yield* messenger.send(entry.to, entry.reply, entry.replyId).pipe(
      Effect.timeoutOrElse({
        duration: Duration.millis(options.sendTimeoutMillis),
        orElse: () => Effect.fail(new SendFailed({ reason: "timeout", retryable: true, message: `no answer within ${options.sendTimeoutMillis} ms` }))
      }),
      Effect.result
    )
    const now = yield* Clock.currentTimeMillis
    // The send took at most the send timeout: what is left of the lease is the
    // time to record its outcome while the store is away, before another
    // sender may claim the reply (and, after a success, send it again).
    const recordWithin = Duration.millis(options.leaseMillis - options.sendTimeoutMillis)
    if (sent._tag === "Success") {
      const { outcome, more } = yield* whileStoreAway(outbox.markSent(entry, sent.success.providerMessageId, now), recordWithin)
      if (outcome === "duplicate") {
        yield* Effect.logWarning("reply delivered again").pipe(Effect.annotateLogs({ event: "outbox.duplicate", replyId: entry.replyId, attempt: entry.attempts }))
      }
      yield* count(outboxEvents, { event: outcome })
      return { sent: true, claimAgainAt: more ? now : undefined } satisfies Delivered
    }
    const error = sent.failure
    const retry = error.retryable && entry.attempts < options.maxAttempts
    const retryAt = retry ? now + options.backoffMillis(entry.attempts) : undefined
    const recorded = yield* whileStoreAway(outbox.markFailed(entry, `${error.reason}: ${error.message}`, retryAt, now), recordWithin)
    const event = recorded === "stale" ? "stale" : retry ? "retried" : "dead"
    yield* count(outboxEvents, { event })
    yield* Effect.logWarning("reply not delivered").pipe(Effect.annotateLogs({
      event: `outbox.${event === "retried" ? "retry" : event}`,
      replyId: entry.replyId,
      to: maskAddress(entry.to),
      reason: error.reason
    }))
    return { sent: false, claimAgainAt: event === "retried" ? retryAt : now } satisfies Delivered
  })

/** What `deliver` reports: see there. */
export interface Delivered {
  readonly sent: boolean
  readonly claimAgainAt: number | undefined
}

/** How many delivered reply ids a sender remembers (see `makeOutboxSender`). */
const rememberedDeliveries = 4096

/**
 * Delivers due replies as a pool of `concurrency` independent deliveries:
 * whenever a slot is free and there may be work it claims more, so one slow
 * recipient never holds back the others (the old batch-at-a-time loop waited
 * for its slowest send, and five hung sends stalled a deployment's replies).
 * `claimDue` hands out only each recipient's oldest pending reply, so a user
 * still sees replies in the order they were produced. Replies this process's
 * workers committed come leased through `handOver` and start at once.
 *
 * It claims only when there may be something to claim: at start, on a
 * wake-up (a reply committed elsewhere, a dead one retried), on its idle poll,
 * after a claim that filled its batch, after a delivery whose recipient has
 * more pending or that was parked, and when a retry it scheduled is due. A
 * sender that has just delivered the last reply goes back to sleep without an
 * empty claim.
 *
 * On shutdown, sends already under way finish and are recorded (each bounded
 * by the send timeout) instead of being cut off and sent again by another
 * instance.
 */
export const makeOutboxSender = (options: SenderOptions = defaultSenderOptions) =>
  Effect.gen(function*() {
    checkSenderOptions(options)
    const outbox = yield* Outbox
    const context = yield* Effect.context<Outbox | Messenger>()
    // Deliveries under way in this process, by reply id.
    const inFlight = new Map<string, Fiber.Fiber<void>>()
    // A finished delivery frees a slot, and may have unblocked its recipient's next reply.
    const finished = makeWakeSignal()
    const idle = Duration.millis(options.idlePollMillis)
    // Claim at the next turn of the loop (at start, woken, after a full batch)…
    let claimNow = true
    // …and at these times: what deliveries left behind (now, or a retry's due time).
    let claimTimes: Array<number> = []
    // Replies this process recorded sent, the latest few thousand. A claim made once a reply's
    // lease had passed (the process paused, a commit answered slowly) may be answered only after
    // this process's own delivery of it ended: the reply is sent, and is not sent again.
    const delivered = new Set<string>()
    const onDelivered = (replyId: string, result: Delivered) => {
      if (result.claimAgainAt !== undefined) claimTimes.push(result.claimAgainAt)
      if (result.sent) {
        delivered.add(replyId)
        if (delivered.size > rememberedDeliveries) delivered.delete(delivered.values().next().value!)
      }
    }

    // A reply whose lease passed while this process is still recording its
    // delivery, or after it recorded it sent, is not sent a second time from
    // here (a sent reply is final whichever claim records it).
    const start = (entries: ReadonlyArray<OutboxEntry>) =>
      Effect.gen(function*() {
        for (const entry of entries.filter((e) => !inFlight.has(e.replyId) && !delivered.has(e.replyId))) {
          const fiber = yield* deliver(entry, options).pipe(
            Effect.map((result) => onDelivered(entry.replyId, result)),
            runOnce,
            Effect.ensuring(Effect.suspend(() => {
              inFlight.delete(entry.replyId)
              return finished.notify
            })),
            Effect.provideContext(context),
            Effect.forkDetach({ startImmediately: false })
          )
          inFlight.set(entry.replyId, fiber)
        }
      }).pipe(Effect.uninterruptible)

    // Claiming and starting the deliveries of what was claimed is one step a
    // shutdown cannot cut in two: a reply claimed and never started would wait
    // for its whole lease before another instance sent it.
    const claimAndStart = (limit: number) =>
      Effect.gen(function*() {
        const due = yield* outbox.claimDue(yield* Clock.currentTimeMillis, limit, options.leaseMillis)
        yield* start(due)
        return due.length
      }).pipe(Effect.uninterruptible)

    const iteration = Effect.gen(function*() {
      const free = options.concurrency - inFlight.size
      if (free <= 0) return yield* finished.wait(idle)
      const now = yield* Clock.currentTimeMillis
      const next = Math.min(...claimTimes)
      if (claimNow || next <= now) {
        // This claim finds whatever came due until now; later times stay scheduled.
        claimNow = false
        claimTimes = claimTimes.filter((t) => t > now)
        const limit = Math.min(options.batch, free)
        // A full claim may have left more behind.
        if ((yield* claimAndStart(limit)) >= limit) claimNow = true
        return
      }
      // Woken, the idle poll, or the next scheduled time: claim.
      yield* Effect.raceFirst(
        Effect.andThen(outbox.awaitWork(Math.min(options.idlePollMillis, next - now)), Effect.sync(() => {
          claimNow = true
        })),
        finished.wait(idle)
      )
    })

    return {
      run: iteration.pipe(
        runForever("outbox.error"),
        Effect.ensuring(Effect.suspend(() => Fiber.awaitAll([...inFlight.values()])))
      ),
      handoff: ReplyHandoff.of({
        leaseMillis: options.leaseMillis,
        hasRoom: Effect.sync(() => inFlight.size < options.concurrency),
        handOver: start
      })
    }
  })

/** The sender's loop alone (no workers hand replies over to it): it claims everything it delivers. */
export const runOutboxSender = (options: SenderOptions = defaultSenderOptions) =>
  Effect.flatMap(makeOutboxSender(options), (sender) => sender.run)

/** One delivery's failure (the store went away while marking it) is logged; the reply's lease makes it due again. */
const runOnce = <E, R>(delivery: Effect.Effect<void, E, R>) =>
  delivery.pipe(Effect.catchCause((cause) => Effect.logError("outbox delivery failed").pipe(Effect.annotateLogs({ event: "outbox.error", cause: Cause.pretty(cause) }))))

/**
 * The sender for as long as the scope lives, and its `ReplyHandoff`: provide
 * it to `WorkersLayer` (`Layer.provide`) so their replies go out without a
 * claim, and so the workers stop before the sender on shutdown.
 */
export const OutboxSenderLayer = (options: SenderOptions = defaultSenderOptions): Layer.Layer<ReplyHandoff, never, Outbox | Messenger> =>
  Layer.effect(
    ReplyHandoff,
    Effect.gen(function*() {
      const sender = yield* makeOutboxSender(options)
      yield* Effect.forkScoped(sender.run)
      return sender.handoff
    })
  )
