import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { checkSessionStore, failureReport } from "@parley/core/testing"
import { NaiveSessionStore } from "./NaiveSessionStore.ts"

describe("the property suite has teeth", () => {
  it.effect("finds a counterexample against the naive read-then-write store", () =>
    Effect.gen(function*() {
      const details = yield* checkSessionStore({ numRuns: 200 }).pipe(Effect.provide(NaiveSessionStore))
      assert.isTrue(details.failed, "the naive store must be caught")
      const report = failureReport(details)
      // Shown in the test output so the counterexample and its seed can be read and replayed.
      console.log(`naive store counterexample after ${details.numRuns} run(s), seed ${details.seed}:\n${report}`)
      assert.match(report, /\[1\]|\[3\]|\[4\]/, "it is an invariant of the contract that breaks, not a crash")
    }))
})
