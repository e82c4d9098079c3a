import { Deferred, Duration, Effect } from "effect"

/**
 * Wakes one idle waiter per signal; with nobody waiting, the signal is kept
 * (one at most) for the next waiter, so a signal sent between a worker's empty
 * claim and its wait is not lost. Waking every idle worker for each new message
 * made all of them query for the one message (7 claims per message with 8
 * workers): instead a worker that does find work passes the wake-up on, so a
 * burst still brings every worker in, one after another. The timeout remains
 * the safety net for a wake-up that is lost anyway (a waiter interrupted as it
 * was woken, a notification dropped with its connection).
 */
export interface WakeSignal {
  readonly notify: Effect.Effect<void>
  wait(timeout: Duration.Duration): Effect.Effect<void>
}

export const makeWakeSignal = (): WakeSignal => {
  const waiters: Array<Deferred.Deferred<void>> = []
  let kept = false
  return {
    notify: Effect.sync(() => {
      const next = waiters.shift()
      if (next === undefined) kept = true
      else Deferred.doneUnsafe(next, Effect.void)
    }),
    wait: (timeout) =>
      Effect.suspend(() => {
        if (kept) {
          kept = false
          return Effect.void
        }
        const woken = Deferred.makeUnsafe<void>()
        waiters.push(woken)
        return Deferred.await(woken).pipe(
          Effect.timeoutOption(timeout),
          Effect.asVoid,
          Effect.ensuring(Effect.sync(() => {
            const index = waiters.indexOf(woken)
            if (index >= 0) waiters.splice(index, 1)
          }))
        )
      })
  }
}
