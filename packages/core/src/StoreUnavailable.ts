import { Schema } from "effect"

/**
 * A store (database, remote API) could not answer: connection lost, timeout,
 * serialization failure. Adapters map their driver errors to it so the core
 * never sees a raw driver error; the pipeline treats it as retryable.
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  operation: Schema.String,
  message: Schema.String
}) {}
