import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Duration, Effect, Exit, Layer, Metric, Option, Tracer } from "effect"
import { TestClock } from "effect/testing"
import {
  acceptInbound,
  commitTurn,
  defaultWorkerOptions,
  Directory,
  Inbox,
  PhoneNumber,
  PipelineError,
  processMessage,
  stageSeconds,
  StoreUnavailable
} from "@parley/core"
import { chatAs, drainInbox, inboundOf, makeLogRecorder, RecordingMessengerLayer } from "@parley/core/testing"
import { demoSubcontractors, InMemoryAssistant } from "@parley/worksite"

const karim = demoSubcontractors[0]!
const TestLayer = () => Layer.mergeAll(InMemoryAssistant(), RecordingMessengerLayer)

/** A tracer that keeps every span it starts. */
const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span(options) {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  const named = (name: string) => spans.filter((s) => s.name === name)
  const childrenOf = (parent: Tracer.Span) =>
    spans.filter((s) => Option.isSome(s.parent) && s.parent.value.spanId === parent.spanId).map((s) => s.name)
  return { spans, tracer, named, childrenOf }
}

const stageCount = (stage: string) => Effect.map(Metric.value(Metric.withAttributes(stageSeconds, { stage })), (s) => s.count)

describe("each pipeline stage is a child span, timed, and names itself when it fails", () => {
  it.effect("one message: handleClaim → processMessage → a span per stage, and stage.commit", () =>
    Effect.gen(function*() {
      const recorded = recordingTracer()
      yield* chatAs(karim.phone).say("Bonjour").pipe(Effect.provideService(Tracer.Tracer, recorded.tracer))
      const [claim] = recorded.named("handleClaim")
      assert.isDefined(claim)
      assert.deepStrictEqual(recorded.childrenOf(claim!), ["processMessage", "stage.commit"])
      const [pipeline] = recorded.named("processMessage")
      assert.deepStrictEqual(
        recorded.childrenOf(pipeline!),
        ["stage.identify", "stage.resolve_session", "stage.load_context", "stage.decide", "stage.run_tool"]
      )
      // The functions the stages run keep their own spans beneath them.
      assert.deepStrictEqual(recorded.childrenOf(recorded.named("stage.resolve_session")[0]!), ["resolveSession"])
      assert.deepStrictEqual(recorded.childrenOf(recorded.named("stage.decide")[0]!), ["decide"])
      assert.deepStrictEqual(recorded.childrenOf(recorded.named("stage.run_tool")[0]!), ["runTool"])
      for (const span of recorded.spans) assert.strictEqual(span.status._tag, "Ended", `${span.name} ended`)
      for (const stage of ["identify", "resolve_session", "load_context", "decide", "run_tool", "commit"]) {
        assert.strictEqual(yield* stageCount(stage), 1, `parley_stage_seconds{stage="${stage}"}`)
      }
    }).pipe(Effect.provide(TestLayer()), Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("an unknown sender stops after identify: no session stage", () =>
    Effect.gen(function*() {
      const recorded = recordingTracer()
      yield* chatAs(PhoneNumber.make("+33700000000")).say("Bonjour").pipe(Effect.provideService(Tracer.Tracer, recorded.tracer))
      assert.deepStrictEqual(recorded.childrenOf(recorded.named("processMessage")[0]!), ["stage.identify"])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("a failed commit is a PipelineError naming the commit stage: timed, traced, logged and kept with the entry", () => {
    // The store goes away exactly when the turn is committed.
    const FailingCommit = Layer.effect(
      Inbox,
      Effect.gen(function*() {
        const inbox = yield* Inbox
        return Inbox.of({ ...inbox, complete: () => Effect.fail(new StoreUnavailable({ operation: "inbox.complete", message: "connection reset" })) })
      })
    )
    return Effect.gen(function*() {
      const recorded = recordingTracer()
      const logs = makeLogRecorder()
      yield* acceptInbound([inboundOf(karim.phone, { _tag: "Text", body: "Bonjour" })])
      yield* drainInbox({ ...defaultWorkerOptions, retry: { maxAttempts: 1, backoff: () => Duration.seconds(1) } }).pipe(
        Effect.provideService(Tracer.Tracer, recorded.tracer),
        Effect.provide(logs.layer)
      )
      const [dead] = yield* (yield* Inbox).listDead(10)
      assert.strictEqual(dead?.error, "commit: connection reset")
      const [log] = logs.events("inbox.dead")
      assert.strictEqual(log?.annotations["stage"], "commit")
      const [commit] = recorded.named("stage.commit")
      assert.strictEqual(commit?.status._tag, "Ended")
      const exit = commit!.status._tag === "Ended" ? commit!.status.exit : Exit.void
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined
      assert.instanceOf(error, PipelineError)
      assert.strictEqual((error as PipelineError).stage, "commit")
      assert.strictEqual(yield* stageCount("commit"), 1)
    }).pipe(Effect.provide(FailingCommit.pipe(Layer.provideMerge(TestLayer()))), Effect.provideService(Metric.MetricRegistry, new Map()))
  })

  it.effect("a lost lease at commit stays LeaseLost: the message is another worker's now", () =>
    Effect.gen(function*() {
      const message = inboundOf(karim.phone, { _tag: "Text", body: "Bonjour" })
      yield* acceptInbound([message])
      const inbox = yield* Inbox
      const lease = Duration.seconds(60)
      const stale = (yield* inbox.claim(yield* Clock.currentTimeMillis, lease))!
      const turn = yield* processMessage(message)
      yield* TestClock.adjust(Duration.seconds(61))
      const current = (yield* inbox.claim(yield* Clock.currentTimeMillis, lease))!
      const lost = yield* Effect.flip(commitTurn(stale, turn))
      assert.strictEqual(lost._tag, "LeaseLost")
      yield* commitTurn(current, turn)
    }).pipe(Effect.provide(TestLayer())))
})

describe("a driver error an adapter let through is recorded with its stage, not raw", () => {
  it.effect("a defect in identify: the dead entry says identify and the error's short name, never a stack or a module path", () => {
    class SqlError extends Error {
      override readonly name = "effect/sql/SqlError"
    }
    const DyingDirectory = Layer.effect(
      Directory,
      Effect.gen(function*() {
        const directory = yield* Directory
        return Directory.of({ ...directory, identify: () => Effect.die(new SqlError("PgConnection: Connection closed")) })
      })
    )
    return Effect.gen(function*() {
      const logs = makeLogRecorder()
      yield* acceptInbound([inboundOf(karim.phone, { _tag: "Text", body: "Bonjour" })])
      yield* drainInbox({ ...defaultWorkerOptions, retry: { maxAttempts: 1, backoff: () => Duration.seconds(1) } }).pipe(Effect.provide(logs.layer))
      const [dead] = yield* (yield* Inbox).listDead(10)
      assert.strictEqual(dead?.error, "identify: SqlError: PgConnection: Connection closed")
      assert.strictEqual(logs.events("inbox.dead")[0]?.annotations["stage"], "identify")
    }).pipe(Effect.provide(DyingDirectory.pipe(Layer.provideMerge(TestLayer()))))
  })
})

describe("a tap's id comes from the user's client: logged only when it is one of ours", () => {
  it.effect("an id of ours is logged; a phone number or a long id is not", () =>
    Effect.gen(function*() {
      const logs = makeLogRecorder()
      const chat = chatAs(karim.phone)
      yield* chat.say("Bonjour")
      for (const id of ["option_7", "+33 6 12 34 56 78", "x".repeat(5_000)]) {
        yield* chat.send({ _tag: "ButtonReply", id, title: "Champigny" }).pipe(Effect.provide(logs.layer))
      }
      assert.deepStrictEqual(logs.events("pipeline.direct_action").map((r) => r.annotations["optionId"]), [
        "option_7",
        "not one of ours (17 characters)",
        "not one of ours (5000 characters)"
      ])
    }).pipe(Effect.provide(TestLayer())))
})
