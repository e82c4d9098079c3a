import { Cause, Duration, Effect } from "effect"

/**
 * Repeats one iteration of a background loop for as long as its fiber lives.
 * A failed iteration (the database went away, a defect) is logged and retried
 * after a pause instead of killing the loop; interruption still stops it.
 */
export const runForever = (event: string) => <E, R>(iteration: Effect.Effect<void, E, R>): Effect.Effect<never, never, R> =>
  iteration.pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.logError(`${event} failed`).pipe(
          Effect.annotateLogs({ event, cause: Cause.pretty(cause) }),
          Effect.andThen(Effect.sleep(Duration.seconds(1)))
        )
    ),
    Effect.forever
  ) as Effect.Effect<never, never, R>
