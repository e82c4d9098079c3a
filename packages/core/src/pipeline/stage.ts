import { Effect, Metric } from "effect"
import { PipelineError, type Stage } from "./PipelineError.ts"
import { stageSeconds, trackSeconds } from "./PipelineMetrics.ts"

/**
 * Observes a pipeline stage without touching its errors: a child span
 * `stage.<name>` and its time in `parley_stage_seconds{stage}`, whether it
 * succeeds or fails. For stages whose errors must keep their own type.
 */
export const observeStage = (name: Stage) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  effect.pipe(
    trackSeconds(Metric.withAttributes(stageSeconds, { stage: name })),
    Effect.withSpan(`stage.${name}`, { attributes: { "parley.stage": name } })
  )

/** A pipeline stage: observed as `observeStage` does, its failures a `PipelineError` naming it. */
export const stage = <A, E extends { readonly message: string }, R>(name: Stage, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.mapError((e) => new PipelineError({ stage: name, message: e.message })),
    observeStage(name)
  )
