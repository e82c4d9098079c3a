import { Schema } from "effect"

/**
 * A store (database, remote API) could not answer: connection lost, timeout,
 * serialization failure. Adapters map their driver errors to it so the core
 * never sees a raw driver error; the pipeline treats it as retryable.
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  operation: Schema.String,
  message: Schema.String,
  /**
   * The store is away for now (connection lost, restarting, deadlock) rather
   * than refusing this request for good (a broken constraint): the same call
   * may succeed once it is back. Workers retry such a step within their lease.
   */
  transient: Schema.optionalKey(Schema.Boolean)
}) {}

/** Whether `error` is a store outage worth retrying the same call for. */
export const isTransientOutage = (error: unknown): error is StoreUnavailable =>
  error instanceof StoreUnavailable && error.transient === true
