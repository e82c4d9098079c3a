import { Clock, Duration, Effect } from "effect"
import { LlmCircuitOpen } from "./LlmFailure.ts"

export interface CircuitBreakerSettings {
  /** Failures in a row that open the circuit. */
  readonly failures: number
  /** How long it stays open before one trial call is let through. */
  readonly cooldown: Duration.Input
}

export const defaultBreaker: CircuitBreakerSettings = { failures: 5, cooldown: Duration.seconds(30) }

/**
 * Closed: calls go through, failures in a row are counted. Open (after
 * `failures` of them): calls fail at once with `LlmCircuitOpen`, so the rules
 * answer without waiting for a dead endpoint. After `cooldown`, one trial call
 * goes through (half-open): its success closes the circuit, its failure opens
 * it again. Per process, which is the scope of what it protects: the worker's
 * lease time.
 */
export const makeCircuitBreaker = (settings: CircuitBreakerSettings, onOpen: Effect.Effect<void>) => {
  const cooldown = Duration.toMillis(Duration.fromInputUnsafe(settings.cooldown))
  let failures = 0
  let openUntil: number | undefined
  let trialInFlight = false

  return {
    isOpen: Effect.map(Clock.currentTimeMillis, (now) => openUntil !== undefined && (now < openUntil || trialInFlight)),
    guard: <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | LlmCircuitOpen, R> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        let trial = false
        if (openUntil !== undefined) {
          if (now < openUntil || trialInFlight) return yield* new LlmCircuitOpen({ retryInMillis: Math.max(0, openUntil - now) })
          trialInFlight = trial = true
        }
        return yield* effect.pipe(
          Effect.onExit((exit) =>
            Effect.gen(function*() {
              if (trial) trialInFlight = false
              if (exit._tag === "Success") {
                failures = 0
                openUntil = undefined
                return
              }
              failures += 1
              if (trial || failures >= settings.failures) {
                const wasClosed = openUntil === undefined
                openUntil = (yield* Clock.currentTimeMillis) + cooldown
                if (wasClosed || trial) yield* onOpen
              }
            })
          )
        )
      })
  }
}
