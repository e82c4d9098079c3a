import { Effect } from "effect"
import * as fc from "fast-check"

/**
 * How many random schedules a contract suite's property tries, and from which
 * seed. A failing run's report names its seed and path; set `seed` (or the
 * environment variables below, without editing the suite) to replay it.
 */
export interface PropertyRuns {
  readonly numRuns?: number | undefined
  readonly seed?: number | undefined
}

const fromEnv = (name: string): number | undefined => {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name]
  return value === undefined || value === "" || !Number.isFinite(Number(value)) ? undefined : Number(value)
}

/** `PARLEY_CONTRACT_RUNS` and `PARLEY_CONTRACT_SEED` win over the suite's options: CI replays a failure by setting them. */
export const resolveRuns = (options: PropertyRuns, defaultRuns: number): { readonly numRuns: number; readonly seed: number | undefined } => ({
  numRuns: fromEnv("PARLEY_CONTRACT_RUNS") ?? options.numRuns ?? defaultRuns,
  seed: fromEnv("PARLEY_CONTRACT_SEED") ?? options.seed
})

/**
 * Checks `check` over `numRuns` values of `arbitrary`; `check` returns the
 * violated invariants (none: the run passed). fast-check shrinks a failure
 * to the smallest schedule it can find.
 */
export const checkProperty = <T>(
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => Promise<ReadonlyArray<string>>,
  runs: { readonly numRuns: number; readonly seed?: number | undefined }
): Effect.Effect<fc.RunDetails<[T]>> =>
  Effect.promise(() =>
    fc.check(
      fc.asyncProperty(arbitrary, async (value) => {
        const violations = await check(value)
        if (violations.length > 0) throw new Error(violations.join("\n"))
      }),
      { numRuns: runs.numRuns, ...(runs.seed === undefined ? {} : { seed: runs.seed }) }
    )
  )

/** fast-check's report (seed, path, shrunk counterexample) followed by the violated invariants. */
export const failureReport = <Ts>(details: fc.RunDetails<Ts>): string =>
  [fc.defaultReportMessage(details) ?? "", details.errorInstance instanceof Error ? details.errorInstance.message : ""]
    .join("\nViolations:\n")
