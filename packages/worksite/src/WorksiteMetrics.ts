import { Metric } from "effect"

/** Direct actions (taps and typed choices) resolved against stored tool outputs: `result` is hit or miss. */
export const directActions = Metric.counter("parley_direct_actions_total", {
  description: "Button / list taps resolved against the session's tool outputs, by tool and result (hit, miss)",
  incremental: true
})

/** The seed's symptom: a tap on a list arrived and the session had no history to resolve it against. */
export const emptyContextTaps = Metric.counter("parley_empty_context_taps_total", {
  description: "Interactive replies (taps) processed with an empty conversation context",
  incremental: true
})

export const classifications = Metric.counter("parley_classifications_total", {
  description: "Free-text messages classified, by intent",
  incremental: true
})
