import { count, inboxEvents, outboxEvents } from "@parley/core"
import { directActions, emptyContextTaps } from "@parley/worksite"
import { sessionHealth, uniqueViolations } from "@parley/adapters-pg"
import { Effect, Metric } from "effect"
import { deliveryFailures, primedDeliveryFailureCodes, primedProviderErrorCodes, providerErrors } from "./http/ProviderNotices.ts"

/** Gauges read from the database when Prometheus scrapes: they cover every instance, not just this one. */
const maxSessionsPerUser = Metric.gauge("parley_db_sessions_created_per_user_1m_max", {
  description: "The most sessions any one user got in the last minute, across all instances (from Postgres)"
})
const usersWithDuplicates = Metric.gauge("parley_db_users_with_duplicate_active_sessions", {
  description: "Users with more than one active session (from Postgres): must always be 0"
})
const uniqueIndexPresent = Metric.gauge("parley_db_unique_active_session_index_present", {
  description: "1 when idx_unique_active_session_per_user exists, else 0"
})

/**
 * The counters the alert rules (packages/server/prometheus/alerts.yml) compute rates of, at 0
 * from the first scrape: Prometheus's `increase()` cannot see a series' first
 * increment, so a series that only appears on the first incident would never
 * fire its alert.
 */
export const primeAlertCounters = Effect.all([
  count(uniqueViolations, { constraint: "idx_unique_active_session_per_user" }, 0),
  count(emptyContextTaps, {}, 0),
  // A missed tap has no stored output to name its tool: it is counted as `list` or `unknown`.
  count(directActions, { tool: "list", result: "miss" }, 0),
  count(directActions, { tool: "unknown", result: "miss" }, 0),
  count(inboxEvents, { event: "dead" }, 0),
  count(outboxEvents, { event: "dead" }, 0),
  ...primedProviderErrorCodes.map((code) => count(providerErrors, { provider: "meta", code }, 0)),
  ...primedDeliveryFailureCodes.map((code) => count(deliveryFailures, { provider: "meta", code }, 0))
], { discard: true })

/** Reads the database-wide session health into the gauges; a database that does not answer leaves them as they were. */
export const refreshDatabaseGauges = Effect.gen(function*() {
  const health = yield* sessionHealth
  yield* Metric.update(maxSessionsPerUser, yield* health.maxSessionsPerUserLastMinute)
  yield* Metric.update(usersWithDuplicates, yield* health.usersWithDuplicateActiveSessions)
  yield* Metric.update(uniqueIndexPresent, (yield* health.uniqueIndexPresent) ? 1 : 0)
}).pipe(
  Effect.catch((error) => Effect.logWarning("database gauges not refreshed").pipe(Effect.annotateLogs({ event: "metrics.db_unavailable", error: error.message })))
)
