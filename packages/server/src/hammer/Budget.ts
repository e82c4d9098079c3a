import { Duration } from "effect"

/**
 * How much load is left: a number of calls, a deadline, or both (whichever
 * ends first). Callers take one ticket per call; `stop` ends the run early.
 */
export const makeBudget = (options: { readonly count: number | undefined; readonly duration: Duration.Duration | undefined }) => {
  const deadline = options.duration === undefined ? undefined : Date.now() + Duration.toMillis(options.duration)
  let left = options.count ?? Number.POSITIVE_INFINITY
  let stopped = false
  return {
    take: (n = 1): number => {
      if (stopped || (deadline !== undefined && Date.now() >= deadline)) return 0
      const granted = Math.min(n, left)
      left -= granted
      return granted
    },
    /** No ticket left: the producers' redeliveries, which take none, stop too. */
    done: (): boolean => stopped || left <= 0 || (deadline !== undefined && Date.now() >= deadline),
    stop: () => void (stopped = true)
  }
}

export type Budget = ReturnType<typeof makeBudget>
