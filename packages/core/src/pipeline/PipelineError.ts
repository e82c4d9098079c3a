import { Schema } from "effect"

export const Stage = Schema.Literals(["identify", "resolve_session", "load_context", "decide", "run_tool", "commit"])
export type Stage = typeof Stage.Type

/** A stage of the pipeline failed; the inbox retries the message with backoff, then parks it as dead. */
export class PipelineError extends Schema.TaggedError<PipelineError>()("PipelineError", {
  stage: Stage,
  message: Schema.String
}) {}
