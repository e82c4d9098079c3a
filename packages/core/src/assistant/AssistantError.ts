import { Schema } from "effect"

/**
 * The assistant could not answer: its own failure (a model that timed out, a
 * rule that found nothing to say) or a response the engine refuses
 * (`invalid_response`). The pipeline retries the message with backoff, then
 * parks it as dead, as for any failed stage.
 */
export class AssistantError extends Schema.TaggedError<AssistantError>()("AssistantError", {
  reason: Schema.Literals(["failed", "invalid_response"]),
  message: Schema.String
}) {}
