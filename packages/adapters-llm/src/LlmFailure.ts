import { Schema } from "effect"

/** The endpoint did not answer within `LLM_TIMEOUT` (waiting for a concurrency permit included). */
export class LlmTimeout extends Schema.TaggedError<LlmTimeout>()("LlmTimeout", {
  timeoutMillis: Schema.Finite
}) {}

/** The endpoint could not be reached, or answered with an HTTP error. `retryable`: a network error, 429 or 5xx. */
export class LlmUnavailable extends Schema.TaggedError<LlmUnavailable>()("LlmUnavailable", {
  retryable: Schema.Boolean,
  status: Schema.optionalKey(Schema.Finite),
  message: Schema.String
}) {}

/**
 * The endpoint answered, but not with something the assistant may act on:
 * a malformed body or JSON, an intent outside the closed set, a site or task
 * that is not the user's, an empty answer.
 */
export class LlmInvalidAnswer extends Schema.TaggedError<LlmInvalidAnswer>()("LlmInvalidAnswer", {
  reason: Schema.Literals(["response_shape", "empty", "refused", "malformed_json", "schema", "site_not_users", "task_not_users"]),
  message: Schema.String
}) {}

/** Too many failures in a row: the rules answer without calling the endpoint until the cool-down is over. */
export class LlmCircuitOpen extends Schema.TaggedError<LlmCircuitOpen>()("LlmCircuitOpen", {
  retryInMillis: Schema.Finite
}) {}

export type LlmFailure = LlmTimeout | LlmUnavailable | LlmInvalidAnswer | LlmCircuitOpen
