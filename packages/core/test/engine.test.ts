import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Metric, Option, Schema, Tracer } from "effect"
import {
  acceptInbound,
  Assistant,
  defaultWorkerOptions,
  Handoff,
  Inbox,
  MessageStore,
  PhoneNumber,
  sessionResolutions,
  SessionStore,
  User,
  UserId
} from "@parley/core"
import { InMemoryDirectory, InMemoryEngine, InMemoryMessaging } from "@parley/core/memory"
import {
  chatAs,
  checkConversations,
  drainInbox,
  EchoAssistantLayer,
  echoMissBody,
  echoScript,
  echoUnknownBody,
  failureReport,
  inboundOf,
  killedAfterThePipeline,
  RecordingMessenger,
  RecordingMessengerLayer,
  resolvingTwice,
  SlowEchoAssistantLayer
} from "@parley/core/testing"

const ada = new User({ id: UserId.make(crypto.randomUUID()), phone: PhoneNumber.make("+15550000001"), displayName: "Ada" })
const users = [ada, 2, 3].map((u) =>
  typeof u === "number" ? new User({ id: UserId.make(crypto.randomUUID()), phone: PhoneNumber.make(`+1555000000${u}`), displayName: `User ${u}` }) : u)

/** The engine alone: its in-memory stores, a directory, the echo assistant. No worksite anywhere. */
const echoEngine = () => Layer.mergeAll(InMemoryEngine, InMemoryDirectory(users), EchoAssistantLayer, RecordingMessengerLayer)

const bodyOf = (reply: { readonly body: string } | undefined) => reply?.body

describe("the engine with another assistant (echo)", () => {
  it.effect("replies, numbers turns within the session through the state it stored, and a tap resolves against it", () =>
    Effect.gen(function*() {
      const chat = chatAs(ada.phone)
      const [first] = yield* chat.say("hello")
      const [second] = yield* chat.say("again and again")
      assert.strictEqual(bodyOf(first), "#1 You said: hello")
      assert.strictEqual(bodyOf(second), "#2 You said: again and again")
      const [repeated] = yield* chat.tap(first, "Again")
      // The tap on the first reply repeats what *that* reply stood for, found in its stored state.
      assert.strictEqual(bodyOf(repeated), "#3 You said: again and again")
      const [session] = yield* (yield* SessionStore).listByUser(ada.id)
      const stored = [...yield* (yield* MessageStore).recent(session!.id, 10)].reverse()
      assert.deepStrictEqual(stored.map((m) => [m.direction, m.metadata["turn"], m.metadata["said"]]), [
        ["inbound", 1, undefined],
        ["outbound", undefined, "hello"],
        ["inbound", 2, undefined],
        ["outbound", undefined, "again and again"],
        ["inbound", 3, undefined],
        ["outbound", undefined, "again and again"]
      ])
      // The engine's own keys sit beside the assistant's state.
      assert.deepStrictEqual(stored[4]!.metadata.interactive, { id: "echo_again", title: "Again" })
      assert.strictEqual((stored[5]!.metadata.reply as { body: string }).body, "#3 You said: again and again")
    }).pipe(Effect.provide(echoEngine())))

  it.effect("a tap with no stored state to resolve against is the assistant's miss, not a crash", () =>
    Effect.gen(function*() {
      const [reply] = yield* chatAs(ada.phone).send({ _tag: "ButtonReply", id: "echo_again", title: "Again" })
      assert.strictEqual(bodyOf(reply), echoMissBody)
    }).pipe(Effect.provide(echoEngine())))

  it.effect("an unknown sender gets the assistant's unknownSender replies and no session", () =>
    Effect.gen(function*() {
      const [reply] = yield* chatAs(PhoneNumber.make("+15559999999")).say("hi")
      assert.strictEqual(bodyOf(reply), echoUnknownBody)
      const { messages, inbox } = yield* (yield* InMemoryMessaging).inspect
      assert.lengthOf(messages, 0)
      assert.deepStrictEqual(inbox.map((e) => e.state), ["done"])
    }).pipe(Effect.provide(echoEngine())))

  it.effect("escalate: the engine records one handoff and the session becomes escalated", () =>
    Effect.gen(function*() {
      yield* chatAs(ada.phone).say("human")
      const [session] = yield* (yield* SessionStore).listByUser(ada.id)
      assert.strictEqual(session?.status, "escalated")
      const handoffs = yield* (yield* Handoff).list(10)
      assert.deepStrictEqual(handoffs.map((h) => [h.sessionId, h.displayName, h.maskedPhone]), [[session!.id, "Ada", "+15•••••••01"]])
    }).pipe(Effect.provide(echoEngine())))

  it.effect("respond may run twice for one message (a worker killed after it): one turn is stored, one reply sent", () =>
    Effect.gen(function*() {
      const message = inboundOf(ada.phone, { _tag: "Text", body: "once" })
      yield* killedAfterThePipeline(message)
      assert.strictEqual(yield* drainInbox(), 1)
      const [session] = yield* (yield* SessionStore).listByUser(ada.id)
      const stored = yield* (yield* MessageStore).recent(session!.id, 10)
      assert.strictEqual(stored.filter((m) => m.direction === "inbound").length, 1)
    }).pipe(Effect.provide(echoEngine())))

  it.effect("an assistant without declared stages is one stage, stage.respond, beneath processMessage", () =>
    Effect.gen(function*() {
      const spans: Array<Tracer.NativeSpan> = []
      const tracer = Tracer.make({ span: (options) => { const s = new Tracer.NativeSpan(options); spans.push(s); return s } })
      yield* chatAs(ada.phone).say("hello").pipe(Effect.provideService(Tracer.Tracer, tracer))
      const pipeline = spans.find((s) => s.name === "processMessage")!
      const children = spans.filter((s) => Option.isSome(s.parent) && s.parent.value.spanId === pipeline.spanId).map((s) => s.name)
      assert.deepStrictEqual(children, ["stage.identify", "stage.resolve_session", "stage.load_context", "stage.respond"])
    }).pipe(Effect.provide(echoEngine())))

  it.effect("a response the engine refuses (an invalid reply) fails the respond stage: retried, then parked as dead", () => {
    const Broken = Assistant.layer({
      state: Schema.Struct({}),
      respond: () => Effect.succeed({ replies: [{ reply: { _tag: "TextReply", body: 42 } as never }] })
    })
    return Effect.gen(function*() {
      yield* acceptInbound([inboundOf(ada.phone, { _tag: "Text", body: "hello" })])
      yield* drainInbox({ ...defaultWorkerOptions, retry: { maxAttempts: 1, backoff: () => Duration.seconds(1) } })
      const [dead] = yield* (yield* Inbox).listDead(10)
      assert.match(dead?.error ?? "", /^respond: invalid reply/)
      assert.lengthOf(yield* (yield* RecordingMessenger).sent, 0)
    }).pipe(Effect.provide(Layer.mergeAll(InMemoryEngine, InMemoryDirectory(users), Broken, RecordingMessengerLayer)))
  })
})

/** For the property: the echo assistant takes time, so sessions idle out mid-pipeline sometimes. */
const slowEchoEngine = () => Layer.mergeAll(InMemoryEngine, InMemoryDirectory(users), SlowEchoAssistantLayer, RecordingMessengerLayer)

describe("random conversations through the engine with the echo assistant", () => {
  it.live("keep every invariant (in memory)", () =>
    Effect.gen(function*() {
      const details = yield* checkConversations({ numRuns: 100, layer: slowEchoEngine, users: Effect.succeed(users), script: echoScript })
      assert.isFalse(details.failed, failureReport(details))
      const resolutions = (outcome: string) => Metric.value(Metric.withAttributes(sessionResolutions, { outcome })).pipe(Effect.map((s) => s.count))
      assert.isAbove(yield* resolutions("carried"), 0)
      assert.isAbove(yield* resolutions("expired_then_created"), 0)
    }), 120_000)

  it.live("find the seed's split session when carrying is disabled", () =>
    Effect.gen(function*() {
      const details = yield* checkConversations({ numRuns: 300, layer: slowEchoEngine, users: Effect.succeed(users), script: echoScript, process: resolvingTwice })
      assert.isTrue(details.failed, "the property must catch a pipeline that resolves its session twice, whatever the assistant")
      assert.match(failureReport(details), /\[one-session\]|\[direct-action\]/)
    }), 120_000)
})
