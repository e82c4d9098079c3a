import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, Metric, Option } from "effect"
import {
  buildTurn,
  decide,
  demoSubcontractors,
  identify,
  InMemoryMessagingLayer,
  InMemorySessionStore,
  InMemoryWorksite,
  loadContext,
  RequestContext,
  resolveSession,
  runTool,
  sessionResolutions,
  type InboundMessage,
  type Process
} from "@parley/core"
import { checkConversations, failureReport, RecordingMessengerLayer, SlowRuleClassifier } from "@parley/core/testing"

const inMemory = () =>
  Layer.mergeAll(InMemoryMessagingLayer, InMemoryWorksite(), SlowRuleClassifier, RecordingMessengerLayer).pipe(
    Layer.provideMerge(InMemorySessionStore)
  )

const users = Effect.succeed(demoSubcontractors)

/**
 * The seed's bug, reintroduced for this test only: the stage that stores the
 * replies calls get-or-create again instead of using the session the request
 * resolved. When the session idles out while the message is mid-pipeline, the
 * replies and their tool outputs land in a new session, away from the inbound.
 */
const withoutCarrying: Process = (inbound: InboundMessage) =>
  Effect.gen(function*() {
    const user = (yield* identify(inbound))!
    const { session } = yield* resolveSession(user.id, Option.none())
    const context = { inbound, user, session }
    const history = yield* loadContext(session)
    const decision = yield* decide(history).pipe(Effect.provideService(RequestContext, context))
    const result = yield* runTool(decision.action).pipe(Effect.provideService(RequestContext, context))
    const again = yield* resolveSession(user.id, Option.none())
    const turn = buildTurn(context, decision, result, yield* Clock.currentTimeMillis)
    return {
      ...turn,
      sessionId: again.session.id,
      messages: turn.messages.map((m) => (m.direction === "outbound" ? { ...m, sessionId: again.session.id } : m))
    }
  }).pipe(Effect.orDie) as ReturnType<Process>

describe("random conversations through inbox, workers and outbox", () => {
  it.live("keep every invariant (in memory)", () =>
    Effect.gen(function*() {
      const details = yield* checkConversations({ numRuns: 150, layer: inMemory, users })
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
      const details = yield* checkConversations({ numRuns: 300, layer: inMemory, users, process: withoutCarrying })
      assert.isTrue(details.failed, "the property must catch a pipeline that resolves its session twice")
      const report = failureReport(details)
      console.log(`carrying disabled: counterexample after ${details.numRuns} run(s):\n${report}`)
      assert.match(report, /\[one-session\]|\[direct-action\]/)
    }), 120_000)
})
