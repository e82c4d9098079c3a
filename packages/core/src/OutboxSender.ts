import { Clock, Effect, Layer } from "effect"
import { Messenger } from "./Messenger.ts"
import { Outbox, type OutboxEntry } from "./Outbox.ts"
import { runForever } from "./runForever.ts"
import { maskAddress } from "./UserAddress.ts"
import { count, outboxEvents } from "./PipelineMetrics.ts"

export interface SenderOptions {
  readonly batch: number
  /** Replies sent at once. A claimed batch holds one reply per recipient, so each user's order holds. */
  readonly concurrency: number
  readonly leaseMillis: number
  readonly idlePollMillis: number
  readonly maxAttempts: number
  readonly backoffMillis: (attempt: number) => number
}

export const defaultSenderOptions: SenderOptions = {
  batch: 20,
  concurrency: 8,
  leaseMillis: 30_000,
  idlePollMillis: 5_000,
  maxAttempts: 8,
  backoffMillis: (attempt) => Math.min(1000 * 2 ** (attempt - 1), 300_000)
}

/** Sends one reply; a retryable failure is rescheduled with backoff, anything else is parked as dead. */
export const deliver = (entry: OutboxEntry, options: SenderOptions) =>
  Effect.gen(function*() {
    const outbox = yield* Outbox
    const messenger = yield* Messenger
    const sent = yield* Effect.result(messenger.send(entry.to, entry.reply, entry.replyId))
    const now = yield* Clock.currentTimeMillis
    if (sent._tag === "Success") {
      yield* outbox.markSent(entry.replyId, sent.success.providerMessageId, now)
      return yield* count(outboxEvents, { event: "sent" })
    }
    const error = sent.failure
    const retry = error.retryable && entry.attempts < options.maxAttempts
    yield* outbox.markFailed(entry.replyId, `${error.reason}: ${error.message}`, retry ? now + options.backoffMillis(entry.attempts) : undefined, now)
    yield* count(outboxEvents, { event: retry ? "retried" : "dead" })
    yield* Effect.logWarning("reply not delivered").pipe(Effect.annotateLogs({
      event: retry ? "outbox.retry" : "outbox.dead",
      replyId: entry.replyId,
      to: maskAddress(entry.to),
      reason: error.reason
    }))
  })

/**
 * Delivers due replies, several recipients at once; `claimDue` hands out only
 * each recipient's oldest pending reply, so a user sees replies in the order
 * they were produced.
 */
export const runOutboxSender = (options: SenderOptions = defaultSenderOptions) =>
  Effect.gen(function*() {
    const outbox = yield* Outbox
    const due = yield* outbox.claimDue(yield* Clock.currentTimeMillis, options.batch, options.leaseMillis)
    if (due.length === 0) return yield* outbox.awaitWork(options.idlePollMillis)
    yield* Effect.forEach(due, (entry) => deliver(entry, options), { concurrency: options.concurrency, discard: true })
  }).pipe(runForever("outbox.error"))

export const OutboxSenderLayer = (options: SenderOptions = defaultSenderOptions): Layer.Layer<never, never, Outbox | Messenger> =>
  Layer.effectDiscard(Effect.forkScoped(runOutboxSender(options)))
