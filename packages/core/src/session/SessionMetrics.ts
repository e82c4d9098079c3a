import { Metric } from "effect"

export type ResolveOutcome = "carried" | "reused" | "created" | "expired_then_created"

/** `parley_session_resolutions_total{outcome}`: the seed's monitoring of session churn, built in. */
export const sessionResolutions = Metric.counter("parley_session_resolutions_total", {
  description: "Sessions resolved for an inbound message, by outcome (carried, reused, created, expired_then_created)",
  incremental: true
})

/** A request carried a session that was no longer usable and had to resolve again. */
export const carriedSessionFallbacks = Metric.counter("parley_session_carried_fallbacks_total", {
  description: "Carried session ids that were missing or no longer active and fell back to get-or-create",
  incremental: true
})

export const countResolution = (outcome: ResolveOutcome) =>
  Metric.update(Metric.withAttributes(sessionResolutions, { outcome }), 1)
