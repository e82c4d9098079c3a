/**
 * What the load saw: every call's latency, and the failed ones by kind
 * (`StoreUnavailable/UniqueViolation (23505)`, `SqlError/ConnectionError`, …).
 */
export const makeCallRecorder = () => {
  const latencies: Array<number> = []
  const errors = new Map<string, number>()
  const firstErrors = new Map<string, string>()
  return {
    ok: (millis: number) => void latencies.push(millis),
    failed: (millis: number, kind: string, message: string) => {
      latencies.push(millis)
      errors.set(kind, (errors.get(kind) ?? 0) + 1)
      if (!firstErrors.has(kind)) firstErrors.set(kind, message)
    },
    get calls() {
      return latencies.length
    },
    snapshot: () => {
      const sorted = [...latencies].sort((a, b) => a - b)
      return {
        calls: latencies.length,
        errors: new Map(errors),
        firstErrors: new Map(firstErrors),
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99)
      }
    }
  }
}

export type CallRecorder = ReturnType<typeof makeCallRecorder>
export type CallStats = ReturnType<CallRecorder["snapshot"]>

/** Nearest-rank percentile of sorted values; 0 when there are none. */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!

/** A failure's kind: its tag, and the driver's classification when there is one. */
export const errorKind = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return String(error)
  const tag = "_tag" in error && typeof error._tag === "string" ? error._tag : "Error"
  if ("reason" in error && typeof error.reason === "object" && error.reason !== null && "_tag" in error.reason) {
    return `${tag}/${String(error.reason._tag)}`
  }
  // StoreUnavailable's message starts with the driver's classification and SQLSTATE (mapSqlError).
  const message = "message" in error && typeof error.message === "string" ? error.message : ""
  const classified = /^([A-Za-z]+Error|[A-Za-z]+Violation)( \(\w+\))?:/.exec(message)
  return classified === null ? tag : `${tag}/${classified[1]}${classified[2] ?? ""}`
}
