import { Schema } from "effect"

/** The engine's own stages; an assistant adds its own (`respond`, or those it declares, such as the worksite's `decide`, `run_tool`). */
export const EngineStage = Schema.Literals(["identify", "resolve_session", "load_context", "escalate", "commit"])
export type EngineStage = typeof EngineStage.Type

export const Stage = Schema.String
export type Stage = EngineStage | (string & {})

/** A stage of the pipeline failed; the inbox retries the message with backoff, then parks it as dead. */
export class PipelineError extends Schema.TaggedError<PipelineError>()("PipelineError", {
  stage: Stage,
  message: Schema.String
}) {}
