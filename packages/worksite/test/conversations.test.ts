import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric } from "effect"
import { sessionResolutions } from "@parley/core"
import { InMemoryEngine } from "@parley/core/memory"
import { checkConversations, failureReport, RecordingMessengerLayer, resolvingTwice } from "@parley/core/testing"
import { demoSubcontractors, InMemoryWorksite, WorksiteAssistant } from "@parley/worksite"
import { SlowRuleClassifier, worksiteScript } from "@parley/worksite/testing"

const inMemory = () =>
  Layer.mergeAll(
    WorksiteAssistant.layer.pipe(Layer.provideMerge(Layer.merge(InMemoryWorksite(), SlowRuleClassifier))),
    InMemoryEngine,
    RecordingMessengerLayer
  )

const users = Effect.succeed(demoSubcontractors)
const script = worksiteScript

describe("random conversations through inbox, workers and outbox", () => {
  it.live("keep every invariant (in memory)", () =>
    Effect.gen(function*() {
      const details = yield* checkConversations({ numRuns: 150, layer: inMemory, users, script })
      assert.isFalse(details.failed, failureReport(details))
      assert.strictEqual(details.numRuns, 150)
      // The runs exercised both ways to a session: taps carrying their reply's session, and fresh resolutions.
      const resolutions = (outcome: string) => Metric.value(Metric.withAttributes(sessionResolutions, { outcome })).pipe(Effect.map((s) => s.count))
      assert.isAbove(yield* resolutions("carried"), 0)
      assert.isAbove(yield* resolutions("expired_then_created"), 0)
      assert.isAbove(yield* resolutions("reused"), 0)
    }), 120_000)

  it.live("find the seed's split session when carrying is disabled", () =>
    Effect.gen(function*() {
      const details = yield* checkConversations({ numRuns: 300, layer: inMemory, users, script, process: resolvingTwice })
      assert.isTrue(details.failed, "the property must catch a pipeline that resolves its session twice")
      const report = failureReport(details)
      console.log(`carrying disabled: counterexample after ${details.numRuns} run(s):\n${report}`)
      assert.match(report, /\[one-session\]|\[direct-action\]/)
    }), 120_000)
})
