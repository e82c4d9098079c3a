import { Effect } from "effect"
import { PipelineError, type Stage } from "./PipelineError.ts"
import { seriesOf, stageSeconds, trackSeconds } from "./PipelineMetrics.ts"

/**
 * Observes a pipeline stage without touching its errors: a child span
 * `stage.<name>` and its time in `parley_stage_seconds{stage}`, whether it
 * succeeds or fails. For stages whose errors must keep their own type.
 */
export const observeStage = (name: Stage) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  effect.pipe(
    trackSeconds(seriesOf(stageSeconds, { stage: name })),
    // The span's name says where it is: no call-site stack trace to capture for each message.
    Effect.withSpan(`stage.${name}`, { attributes: { "parley.stage": name } }, { captureStackTrace: false })
  )

/**
 * What an unexpected error was, for a record an operator reads: its short name
 * (`SqlError`, not the module path `effect/sql/SqlError`) and its message, never a stack.
 */
export const describeUnexpected = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return String(error)
  const e = error as { readonly _tag?: unknown; readonly name?: unknown; readonly message?: unknown }
  const name = String(typeof e._tag === "string" ? e._tag : typeof e.name === "string" ? e.name : "Error").split("/").pop()
  return typeof e.message === "string" && e.message !== "" ? `${name}: ${e.message}` : String(name)
}

/**
 * A pipeline stage: observed as `observeStage` does, its failures a
 * `PipelineError` naming it. A defect in a stage (a driver error an adapter
 * let through) is the stage's failure too: retried, and recorded with its stage.
 */
export const stage = <A, E extends { readonly message: string }, R>(name: Stage, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.mapError((e) => new PipelineError({ stage: name, message: e.message })),
    Effect.catchDefect((defect) => Effect.fail(new PipelineError({ stage: name, message: describeUnexpected(defect) }))),
    observeStage(name)
  )
