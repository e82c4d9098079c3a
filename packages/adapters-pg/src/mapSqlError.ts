import { StoreUnavailable } from "@parley/core"
import { Effect, Metric } from "effect"
import { isSqlError } from "effect/sql/SqlError"

/**
 * Unique violations seen by this process, by constraint. Every write that can
 * collide uses ON CONFLICT, so any count here means a writer or a migration
 * broke an assumption (the seed's alert: "any unique-index violation").
 */
export const uniqueViolations = Metric.counter("parley_unique_violations_total", {
  description: "Unique constraint violations raised by Postgres to this process, by constraint",
  incremental: true
})

/**
 * A driver or decode error becomes the port's `StoreUnavailable`, naming the
 * operation: the core never sees a raw `SqlError` (nor its SQL text). A unique
 * violation is counted and logged on the way, as it is a broken invariant
 * rather than an outage.
 */
export const fromSqlError = (operation: string) => (error: { readonly message: string }): Effect.Effect<never, StoreUnavailable> =>
  Effect.gen(function*() {
    if (isSqlError(error) && error.reason._tag === "UniqueViolation") {
      const constraint = error.reason.constraint ?? "unknown"
      yield* Metric.update(Metric.withAttributes(uniqueViolations, { constraint }), 1)
      yield* Effect.logError("unique violation").pipe(Effect.annotateLogs({ event: "db.unique_violation", operation, constraint }))
    }
    return yield* new StoreUnavailable({ operation, message: describe(error), transient: isOutage(error) })
  })

/**
 * SQLSTATE classes of an outage rather than a refusal: connection exceptions
 * (08), operator intervention such as a restart or a killed backend (57),
 * insufficient resources (53), and transaction rollbacks (40: deadlock,
 * serialization).
 */
const outageClasses = new Set(["08", "40", "53", "57"])

const isOutage = (error: { readonly message: string }): boolean => {
  if (!isSqlError(error)) return false
  if (error.isRetryable) return true
  const cause = error.reason.cause
  const code = typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? cause.code : ""
  return outageClasses.has(code.slice(0, 2))
}

/**
 * What went wrong, without SQL text: the driver's classification and the
 * SQLSTATE tell an outage (`ConnectionError`) from a broken constraint
 * (`ConstraintError (23503)`), which "Query failed" alone does not.
 */
const describe = (error: { readonly message: string }): string => {
  if (!isSqlError(error)) return error.message
  const cause = error.reason.cause
  const code = typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? ` (${cause.code})` : ""
  return `${error.reason._tag}${code}: ${error.message}`
}

/** Maps every failure of `self` with `fromSqlError`. */
export const orUnavailable = (operation: string) =>
<A, E extends { readonly message: string }, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, StoreUnavailable, R> =>
  Effect.catch(self, fromSqlError(operation))

/**
 * The driver's message with the server's (or the socket's) reason and SQLSTATE
 * when it has one: "Query failed" or "The server reported an error" alone
 * gives an operator nothing to act on.
 */
export const sqlErrorDetail = (error: { readonly message: string }): string => {
  if (!isSqlError(error)) return error.message
  const cause = error.reason.cause
  if (typeof cause !== "object" || cause === null) return error.message
  const code = "code" in cause && typeof cause.code === "string" ? cause.code : undefined
  const reason = "message" in cause && typeof cause.message === "string" && cause.message !== "" ? cause.message : undefined
  return [error.message, reason, code === undefined ? undefined : `(${code})`].filter((s) => s !== undefined).join(": ").replace(/: \(/, " (")
}
