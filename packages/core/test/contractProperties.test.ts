import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { checkProperty, checkSessionStore, failureReport, inboxScheduleArbitrary, runInboxSchedule } from "@parley/core/testing"
import { NaiveInbox } from "./NaiveInbox.ts"
import { NaiveSessionStore } from "./NaiveSessionStore.ts"

const checkInbox = (layer: ReturnType<typeof NaiveInbox>, seed: number) =>
  Effect.gen(function*() {
    const context = yield* Effect.context<never>()
    return yield* checkProperty(
      inboxScheduleArbitrary,
      (schedule) => Effect.runPromiseWith(context)(runInboxSchedule(schedule).pipe(Effect.provide(layer))),
      { numRuns: 200, seed }
    )
  })

describe("the contract properties have teeth, and a failure can be replayed from its seed", () => {
  it.effect("the inbox property catches a queue that claims a user's second message while the first is in flight", () =>
    Effect.gen(function*() {
      const details = yield* checkInbox(NaiveInbox(), 7)
      assert.isTrue(details.failed, "the naive inbox must be caught")
      const report = failureReport(details)
      console.log(`naive inbox counterexample:\n${report}`)
      assert.match(report, /seed: 7, path: "[\d:]+"/, "the seed and the path to the shrunk case")
      assert.match(report, /Counterexample: \[\{"senders":\d,"steps":\[/, "the shrunk schedule")
      assert.match(report, /Violations:\n\[(in flight|order)\] step \d+/)
      const again = yield* checkInbox(NaiveInbox(), 7)
      assert.deepStrictEqual(again.counterexample, details.counterexample, "the same seed finds the same schedule")
    }))

  it.effect("the inbox property catches a store that accepts a redelivered webhook again", () =>
    Effect.gen(function*() {
      const details = yield* checkInbox(NaiveInbox({ dedupe: false }), 11)
      assert.isTrue(details.failed)
      assert.match(failureReport(details), /\[(accept|in flight|order)\]/)
    }))

  it.effect("the session store property, given a seed, finds the same counterexample every time", () =>
    Effect.gen(function*() {
      const first = yield* checkSessionStore({ numRuns: 200, seed: 42 }).pipe(Effect.provide(NaiveSessionStore))
      const second = yield* checkSessionStore({ numRuns: 200, seed: 42 }).pipe(Effect.provide(NaiveSessionStore))
      assert.isTrue(first.failed)
      assert.strictEqual(first.seed, 42)
      assert.deepStrictEqual(second.counterexample, first.counterexample)
      assert.match(failureReport(first), /seed: 42/)
    }))
})
