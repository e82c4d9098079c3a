import { Cause, Duration, Effect } from "effect"
import type { Budget } from "./Budget.ts"
import { type CallRecorder, errorKind } from "./CallRecorder.ts"
import type { Prng } from "./Prng.ts"
import type { ReservedUser, ReservedUsers } from "./ReservedUsers.ts"

/** What a load mode gets: the run's users, its budget, its generator and recorder. */
export interface LoadContext {
  readonly reserved: ReservedUsers
  readonly callerCount: number
  readonly idleTimeout: Duration.Duration
  readonly budget: Budget
  readonly prng: Prng
  readonly recorder: CallRecorder
  /** `callerCount` concurrent callers, each calling `call` for a random user until the budget is spent. */
  readonly callers: <A, E, R>(call: (user: ReservedUser) => Effect.Effect<A, E, R>) => Effect.Effect<void, never, R>
}

export const makeLoadContext = (fields: Omit<LoadContext, "callers">): LoadContext => ({
  ...fields,
  callers: (call) =>
    Effect.forEach(Array.from({ length: fields.callerCount }), () =>
      Effect.gen(function*() {
        while (fields.budget.take() > 0) {
          const user = fields.reserved.users[fields.prng.int(fields.reserved.users.length)]!
          yield* timed(fields.recorder, call(user))
        }
      }), { concurrency: "unbounded", discard: true })
})

/** Runs one call, recording its latency and, when it fails, its kind. Never fails itself. */
export const timed = <A, E, R>(recorder: CallRecorder, effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const started = performance.now()
    return effect.pipe(
      Effect.tap(() => Effect.sync(() => recorder.ok(performance.now() - started))),
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : Effect.sync(() => {
          const failure = Cause.squash(cause)
          recorder.failed(performance.now() - started, errorKind(failure), failure instanceof Error ? failure.message : String(failure))
          return undefined
        })
      )
    )
  })
