import type { Metric } from "effect"

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")
const labels = (attributes: Metric.Metric.AttributeSet | undefined, extra: Record<string, string> = {}) => {
  const all = { ...(attributes as Record<string, unknown> | undefined), ...extra }
  const parts = Object.entries(all).map(([k, v]) => `${k.replace(/[^a-zA-Z0-9_]/g, "_")}="${escape(String(v))}"`)
  return parts.length === 0 ? "" : `{${parts.join(",")}}`
}
const name = (id: string) => id.replace(/[^a-zA-Z0-9_:]/g, "_")

/** Effect's metric snapshot in the Prometheus text exposition format (0.0.4). */
export const renderPrometheus = (snapshots: ReadonlyArray<Metric.Metric.Snapshot>): string => {
  const lines: Array<string> = []
  const typed = new Set<string>()
  const header = (metric: string, type: string, help: string | undefined) => {
    if (typed.has(metric)) return
    typed.add(metric)
    if (help) lines.push(`# HELP ${metric} ${help.replace(/\n/g, " ")}`)
    lines.push(`# TYPE ${metric} ${type}`)
  }
  for (const s of [...snapshots].sort((a, b) => a.id.localeCompare(b.id))) {
    const metric = name(s.id)
    switch (s.type) {
      case "Counter":
        header(metric, "counter", s.description)
        lines.push(`${metric}${labels(s.attributes)} ${s.state.count}`)
        break
      case "Gauge":
        header(metric, "gauge", s.description)
        lines.push(`${metric}${labels(s.attributes)} ${s.state.value}`)
        break
      case "Histogram":
        header(metric, "histogram", s.description)
        for (const [le, count] of s.state.buckets) lines.push(`${metric}_bucket${labels(s.attributes, { le: String(le) })} ${count}`)
        lines.push(`${metric}_bucket${labels(s.attributes, { le: "+Inf" })} ${s.state.count}`)
        lines.push(`${metric}_sum${labels(s.attributes)} ${s.state.sum}`)
        lines.push(`${metric}_count${labels(s.attributes)} ${s.state.count}`)
        break
      case "Summary":
        header(metric, "summary", s.description)
        for (const [q, v] of s.state.quantiles) lines.push(`${metric}${labels(s.attributes, { quantile: String(q) })} ${v ?? "NaN"}`)
        lines.push(`${metric}_sum${labels(s.attributes)} ${s.state.sum}`)
        lines.push(`${metric}_count${labels(s.attributes)} ${s.state.count}`)
        break
      case "Frequency":
        header(metric, "counter", s.description)
        for (const [key, count] of s.state.occurrences) lines.push(`${metric}${labels(s.attributes, { key })} ${count}`)
        break
    }
  }
  return lines.join("\n") + "\n"
}
