import { Effect, Metric } from "effect"

export const contextMessages = Metric.histogram("parley_context_messages", {
  description: "Messages loaded as the assistant's context for one inbound message",
  boundaries: [0, 1, 2, 5, 10, 20, 50]
})

export const inboxEvents = Metric.counter("parley_inbox_total", {
  description: "Inbox events: accepted, duplicate, processed, retried, dead",
  incremental: true
})

export const outboxEvents = Metric.counter("parley_outbox_total", {
  description: "Outbox deliveries: sent, retried, dead",
  incremental: true
})

const latencyBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

export const pipelineSeconds = Metric.histogram("parley_pipeline_seconds", {
  description: "Time to process one inbound message, end to end",
  boundaries: latencyBoundaries
})

export const stageSeconds = Metric.histogram("parley_stage_seconds", {
  description: "Time spent in each pipeline stage",
  boundaries: latencyBoundaries
})

/** Inbound messages kept in their session with no answer: reactions, deletions, edits, group messages, notices. */
export const recordedMessages = Metric.counter("parley_messages_recorded_total", {
  description: "Inbound messages recorded without a reply, by kind (reaction, deletion, edit, group, notice)",
  incremental: true
})

/** Identity changes WhatsApp reported and the directory applied (or refused: the number belongs to someone else). */
export const directoryChanges = Metric.counter("parley_directory_changes_total", {
  description: "Directory changes from WhatsApp notices: phone, user_id, or phone_refused",
  incremental: true
})

/** Adds `by` to the series of `metric` with these attributes: how every parley counter is counted (engine, plug-ins, server). */
export const count = (metric: Metric.Metric<number, unknown>, attributes: Record<string, string>, by = 1) =>
  Metric.update(seriesOf(metric, attributes), by)

// Each series is built once and kept: counters and stage timings are updated for every message, with a handful of attribute sets.
const series = new WeakMap<Metric.Metric<number, unknown>, Map<string, Metric.Metric<number, unknown>>>()
/** The series of `metric` with these attributes, built on first use (`Metric.withAttributes` builds one per call). */
export const seriesOf = (metric: Metric.Metric<number, unknown>, attributes: Record<string, string>) => {
  let byAttributes = series.get(metric)
  if (byAttributes === undefined) series.set(metric, byAttributes = new Map())
  const key = JSON.stringify(attributes)
  let one = byAttributes.get(key)
  if (one === undefined) byAttributes.set(key, one = Metric.withAttributes(metric, attributes))
  return one
}

/** Records how long `effect` took, in seconds, into `histogram` — whether it succeeds or fails. */
export const trackSeconds = (histogram: Metric.Metric<number, unknown>) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const start = performance.now()
    return Effect.onExit(effect, () => Metric.update(histogram, (performance.now() - start) / 1000))
  })
