import { Clock, Effect } from "effect"
import { Inbox } from "../../intake/Inbox.ts"
import { deliver, defaultSenderOptions } from "../../delivery/OutboxSender.ts"
import { Outbox } from "../../delivery/Outbox.ts"
import { defaultWorkerOptions, handleClaim, type WorkerOptions } from "../../intake/Workers.ts"

/** Processes every claimable inbox entry, one after another, without background fibers: deterministic tests. */
export const drainInbox = (options: WorkerOptions = defaultWorkerOptions) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    let processed = 0
    while (true) {
      const claim = yield* inbox.claim(yield* Clock.currentTimeMillis, options.lease)
      if (claim === undefined) return processed
      yield* handleClaim(claim, options)
      processed++
    }
  })

/** Delivers every due outbox entry once. */
export const drainOutbox = Effect.gen(function*() {
  const outbox = yield* Outbox
  let delivered = 0
  while (true) {
    const due = yield* outbox.claimDue(yield* Clock.currentTimeMillis, 100, defaultSenderOptions.leaseMillis)
    if (due.length === 0) return delivered
    yield* Effect.forEach(due, (entry) => deliver(entry, defaultSenderOptions), { discard: true })
    delivered += due.length
  }
})
