import { Deferred, Duration, Effect } from "effect"

/**
 * Wakes every waiter at once; a waiter that arrives after a signal waits for
 * the next one. Idle workers sleep on it instead of polling, with a timeout as
 * the safety net.
 */
export interface WakeSignal {
  readonly notify: Effect.Effect<void>
  wait(timeout: Duration.Duration): Effect.Effect<void>
}

export const makeWakeSignal = (): WakeSignal => {
  let current = Deferred.makeUnsafe<void>()
  return {
    notify: Effect.sync(() => {
      const fired = current
      current = Deferred.makeUnsafe<void>()
      Deferred.doneUnsafe(fired, Effect.void)
    }),
    wait: (timeout) => Effect.suspend(() => Deferred.await(current)).pipe(Effect.timeoutOption(timeout), Effect.asVoid)
  }
}
