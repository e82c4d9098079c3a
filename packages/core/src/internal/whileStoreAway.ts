import { Clock, Duration, Effect } from "effect"
import { isTransientOutage } from "../StoreUnavailable.ts"

/**
 * Retries `step` while the store is away (a restart, killed connections), for
 * at most `within`: a worker or sender that could not record its outcome
 * would otherwise leave its claim to lapse — the user's message blocked for a
 * whole lease, or a reply the provider already took sent again by whoever
 * claims it next. Retrying is safe because every recording step is fenced by
 * the claim's token (or, for a delivery, final once recorded): once the claim
 * has been taken over, the retry changes nothing.
 */
export const whileStoreAway = <A, E>(step: Effect.Effect<A, E>, within: Duration.Duration): Effect.Effect<A, E> =>
  Effect.gen(function*() {
    const giveUpAt = (yield* Clock.currentTimeMillis) + Duration.toMillis(within)
    let pause = 100
    while (true) {
      const result = yield* Effect.result(step)
      if (result._tag === "Success") return result.success
      const now = yield* Clock.currentTimeMillis
      if (!isTransientOutage(result.failure) || now + pause >= giveUpAt) return yield* Effect.fail(result.failure)
      yield* Effect.logWarning("store away; retrying").pipe(Effect.annotateLogs({ event: "store.retry", operation: result.failure.operation, pauseMillis: pause }))
      yield* Effect.sleep(Duration.millis(pause))
      pause = Math.min(pause * 2, 2_000)
    }
  })
