import { assert, describe, it } from "@effect/vitest"
import {
  checkSenderOptions,
  defaultSenderOptions,
  deliver,
  InboundMessage,
  Inbox,
  Messenger,
  Outbox,
  outboxEvents,
  PhoneNumber,
  makeOutboxSender,
  type Reply,
  runOutboxSender,
  SendFailed,
  StoreUnavailable
} from "@parley/core"
import { InMemoryMessagingLayer, InMemorySessionStore, makeInMemoryMessaging } from "@parley/core/memory"
import { Clock, Deferred, Duration, Effect, Fiber, Layer, Metric } from "effect"
import { TestClock } from "effect/testing"

const hung = PhoneNumber.make("+33600000001")
const other = PhoneNumber.make("+33600000002")

/** A messenger whose sends to `hung` never answer (until the test lets them), and that records the rest. */
const makeMessenger = Effect.gen(function*() {
  const release = yield* Deferred.make<void>()
  const sent: Array<{ readonly to: string; readonly body: string }> = []
  let calls = 0
  const messenger = Messenger.of({
    send: (to: PhoneNumber, reply: Reply) =>
      Effect.gen(function*() {
        calls++
        if (to === hung) yield* Deferred.await(release)
        sent.push({ to, body: reply.body })
        return { providerMessageId: `wamid.sent.${sent.length}.${crypto.randomUUID()}` }
      }),
    markAsRead: () => Effect.void
  })
  return { messenger, release, sent, calls: () => calls }
})

/**
 * Replies to `to`, recorded the way replies enter the outbox: the turn of one
 * of `to`'s messages. With `leaseMillis`, committed as a worker with a sender
 * at hand commits it (the first reply leased to it). Returns what `complete` said.
 */
const commitTurnOf = (to: PhoneNumber, bodies: ReadonlyArray<string>, leaseMillis?: number) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const now = yield* Clock.currentTimeMillis
    const id = `wamid.in.${crypto.randomUUID()}`
    yield* inbox.accept([new InboundMessage({ provider: "meta", providerMessageId: id, from: to, sentAt: now, content: { _tag: "Text", body: "hi" } })], now)
    const claim = (yield* inbox.claim(now, Duration.seconds(60)))!
    const replies = bodies.map((body, i) => ({ replyId: `meta:${id}:${i}`, to, reply: { _tag: "TextReply" as const, body } }))
    return yield* inbox.complete(claim, { messages: [], replies, escalate: false, at: now }, leaseMillis === undefined ? { now } : { now, leaseRepliesFor: leaseMillis })
  })

/** One reply to `to`, left in the outbox to be claimed. */
const record = (to: PhoneNumber, body: string) => Effect.asVoid(commitTurnOf(to, [body]))

/** Lets forked fibers run to quiescence (a few live milliseconds, virtual time still). */
const settle = Effect.gen(function*() {
  for (let i = 0; i < 10; i++) {
    yield* Effect.repeat(Effect.yieldNow, { times: 20 })
    yield* TestClock.withLive(Effect.sleep(Duration.millis(2)))
  }
})

const eventually = (check: () => boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      if (check()) return
      yield* Effect.yieldNow
      yield* TestClock.withLive(Effect.sleep(Duration.millis(2)))
    }
    return assert.fail(`never happened: ${what}`)
  })

const ports = InMemoryMessagingLayer.pipe(Layer.provideMerge(InMemorySessionStore))

describe("the outbox sender", () => {
  it.effect("a recipient whose send hangs holds one slot: everyone else keeps receiving, replies produced later included", () =>
    Effect.gen(function*() {
      const m = yield* makeMessenger
      yield* record(hung, "to the hung one")
      yield* record(other, "first")
      const sender = yield* runOutboxSender({ ...defaultSenderOptions, idlePollMillis: 50 }).pipe(
        Effect.provideService(Messenger, m.messenger),
        Effect.forkChild
      )
      yield* eventually(() => m.sent.some((s) => s.body === "first"), "the other recipient's first reply")
      // Produced after the hung send started: the old batch loop waited for its whole batch here.
      yield* record(other, "second")
      yield* eventually(() => m.sent.some((s) => s.body === "second"), "the other recipient's later reply, while the first still hangs")
      assert.isFalse(m.sent.some((s) => s.to === hung), "the hung send has not answered")
      yield* Deferred.succeed(m.release, undefined)
      yield* eventually(() => m.sent.some((s) => s.to === hung), "the hung send finishing")
      yield* Fiber.interrupt(sender)
    }).pipe(Effect.provide(ports)))

  it.effect("claims only when there may be something to claim: not after delivering a recipient's last reply, not for a reply a worker handed over", () =>
    Effect.gen(function*() {
      const m = yield* makeMessenger
      const outbox = yield* Outbox
      let claims = 0
      const counting = Outbox.of({ ...outbox, claimDue: (now, limit, lease) => Effect.tap(outbox.claimDue(now, limit, lease), () => Effect.sync(() => claims++)) })
      const options = { ...defaultSenderOptions, idlePollMillis: 60_000 }
      const sender = yield* makeOutboxSender(options).pipe(Effect.provideService(Outbox, counting), Effect.provideService(Messenger, m.messenger))
      const fiber = yield* Effect.forkChild(sender.run)
      yield* settle
      assert.strictEqual(claims, 1, "one claim at start")
      yield* record(other, "recorded")
      yield* eventually(() => m.sent.length === 1, "the recorded reply")
      yield* settle
      assert.strictEqual(claims, 2, "one claim for the recorded reply (it woke the sender), none after delivering it: its recipient had nothing more")
      const handed = yield* commitTurnOf(other, ["handed"], options.leaseMillis)
      assert.strictEqual(handed.leased.length, 1)
      yield* sender.handoff.handOver(handed.leased)
      yield* eventually(() => m.sent.length === 2, "the handed-over reply")
      yield* settle
      assert.strictEqual(claims, 2, "a handed-over reply is delivered without a claim")
      const two = yield* commitTurnOf(other, ["first of two", "second of two"], options.leaseMillis)
      yield* sender.handoff.handOver(two.leased)
      yield* eventually(() => m.sent.length === 4, "both replies of the turn")
      yield* settle
      assert.deepStrictEqual(m.sent.slice(2).map((s) => s.body), ["first of two", "second of two"])
      assert.strictEqual(claims, 3, "the second reply is claimed once the first is sent (its recipient had more), without a wake-up")
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(ports)))

  it.effect("a reply this process has just delivered is not sent again by a claim made while it was in flight", () =>
    Effect.gen(function*() {
      // The reply's lease passes before its handover (a paused process, a commit whose answer
      // was slow): the sender's poll claims it again, and that claim's answer arrives only after
      // the handed-over delivery has sent it and recorded it sent.
      const outbox = yield* Outbox
      const claimGate = yield* Deferred.make<void>()
      const claimed = yield* Deferred.make<void>()
      let claims = 0
      const gated = Outbox.of({
        ...outbox,
        claimDue: (now, limit, lease) =>
          Effect.gen(function*() {
            const due = yield* outbox.claimDue(now, limit, lease)
            if (++claims === 1) return due
            yield* Deferred.succeed(claimed, undefined)
            yield* Deferred.await(claimGate)
            return due
          })
      })
      const sends: Array<string> = []
      const messenger = Messenger.of({
        send: (_to, _reply, replyId) => Effect.sync(() => sends.push(replyId)).pipe(Effect.as({ providerMessageId: `wamid.once.${crypto.randomUUID()}` })),
        markAsRead: () => Effect.void
      })
      // The poll comes after the lease has passed.
      const options = { ...defaultSenderOptions, idlePollMillis: 60_000 }
      const sender = yield* makeOutboxSender(options).pipe(Effect.provideService(Outbox, gated), Effect.provideService(Messenger, messenger))
      const fiber = yield* Effect.forkChild(sender.run)
      yield* settle
      const handed = yield* commitTurnOf(other, ["once"], options.leaseMillis)
      yield* TestClock.adjust(Duration.millis(options.idlePollMillis + 1))
      yield* Deferred.await(claimed)
      yield* sender.handoff.handOver(handed.leased)
      yield* eventually(() => sends.length === 1, "the handed-over send")
      yield* settle
      yield* Deferred.succeed(claimGate, undefined)
      yield* settle
      assert.deepStrictEqual(sends, [handed.leased[0]!.replyId], "sent once")
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(ports)))

  it.effect("has room for a handed-over reply only while a delivery slot is free", () =>
    Effect.gen(function*() {
      const m = yield* makeMessenger
      yield* record(hung, "holds the only slot")
      const sender = yield* makeOutboxSender({ ...defaultSenderOptions, concurrency: 1, idlePollMillis: 60_000 }).pipe(Effect.provideService(Messenger, m.messenger))
      assert.isTrue(yield* sender.handoff.hasRoom)
      const fiber = yield* Effect.forkChild(sender.run)
      yield* eventually(() => m.calls() === 1, "the hung send under way")
      assert.isFalse(yield* sender.handoff.hasRoom, "the one slot is taken: a worker leaves its reply to be claimed")
      yield* Deferred.succeed(m.release, undefined)
      yield* eventually(() => m.sent.length === 1, "the hung send answering")
      yield* settle
      assert.isTrue(yield* sender.handoff.hasRoom)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(ports)))

  it.effect("a retry is claimed when its backoff is over, not at the next idle poll", () =>
    Effect.gen(function*() {
      let calls = 0
      const messenger = Messenger.of({
        send: () => {
          calls++
          return calls === 1
            ? Effect.fail(new SendFailed({ reason: "transient", retryable: true, message: "simulated 500" }))
            : Effect.succeed({ providerMessageId: `wamid.retried.${crypto.randomUUID()}` })
        },
        markAsRead: () => Effect.void
      })
      yield* record(other, "retried")
      const options = { ...defaultSenderOptions, idlePollMillis: 60_000, backoffMillis: () => 2_000 }
      const sender = yield* runOutboxSender(options).pipe(Effect.provideService(Messenger, messenger), Effect.forkChild)
      yield* eventually(() => calls === 1, "the first attempt")
      yield* settle
      yield* TestClock.adjust(Duration.millis(1_999))
      yield* settle
      assert.strictEqual(calls, 1, "still backing off")
      yield* TestClock.adjust(Duration.millis(1))
      yield* eventually(() => calls === 2, "the retry, 2 s after the failure (the idle poll is a minute)")
      yield* Fiber.interrupt(sender)
    }).pipe(Effect.provide(ports)))

  it.effect("a provider that never answers fails the send as a retryable timeout after the send timeout", () =>
    Effect.gen(function*() {
      const m = yield* makeMessenger
      yield* record(hung, "never answered")
      const options = { ...defaultSenderOptions, sendTimeoutMillis: 10_000, idlePollMillis: 20_000 }
      const sender = yield* runOutboxSender(options).pipe(Effect.provideService(Messenger, m.messenger), Effect.forkChild)
      yield* eventually(() => m.calls() === 1, "the first attempt")
      const retried = Metric.value(Metric.withAttributes(outboxEvents, { event: "retried" }))
      assert.strictEqual((yield* retried).count, 0)
      yield* TestClock.adjust(Duration.millis(9_999))
      assert.strictEqual((yield* retried).count, 0, "still within the send timeout")
      yield* TestClock.adjust(Duration.millis(1))
      yield* Effect.repeat(Effect.yieldNow, { times: 50 })
      assert.strictEqual((yield* retried).count, 1, "timed out: rescheduled with backoff")
      // Claimed again when its backoff (1 s for a first attempt) is over, well before the idle poll.
      yield* TestClock.adjust(Duration.millis(options.backoffMillis(1)))
      yield* eventually(() => m.calls() === 2, "the retry after the backoff")
      // Stopping waits for sends under way (each bounded by the send timeout): let this one answer.
      yield* Deferred.succeed(m.release, undefined)
      yield* Fiber.interrupt(sender)
      assert.strictEqual(m.sent.length, 1, "the send under way finished before the sender stopped")
    }).pipe(Effect.provide(ports), Effect.provideService(Metric.MetricRegistry, new Map())))

  it("refuses a send timeout that is not shorter than the lease", () => {
    assert.throws(() => checkSenderOptions({ ...defaultSenderOptions, sendTimeoutMillis: 30_000, leaseMillis: 30_000 }), /shorter than the outbox lease/)
    assert.strictEqual(checkSenderOptions(defaultSenderOptions), defaultSenderOptions)
  })

  it.effect("a delivery whose outcome meets a store outage is recorded once the store is back, not sent again after its lease", () =>
    Effect.gen(function*() {
      const base = yield* makeInMemoryMessaging
      const state = { down: false }
      const outbox = Outbox.of({
        ...base.outbox,
        markSent: (entry, providerMessageId, now) =>
          Effect.suspend(() =>
            state.down
              ? Effect.fail(new StoreUnavailable({ operation: "outbox.markSent", message: "ConnectionError: Connection closed", transient: true }))
              : base.outbox.markSent(entry, providerMessageId, now)
          )
      })
      const m = yield* makeMessenger
      yield* record(other, "once").pipe(Effect.provideService(Inbox, base.inbox))
      const now = yield* Clock.currentTimeMillis
      const [entry] = yield* outbox.claimDue(now, 10, defaultSenderOptions.leaseMillis)
      state.down = true
      const delivery = yield* deliver(entry!, defaultSenderOptions).pipe(
        Effect.provideService(Outbox, outbox),
        Effect.provideService(Messenger, m.messenger),
        Effect.forkChild
      )
      yield* TestClock.adjust(Duration.seconds(5))
      state.down = false
      yield* TestClock.adjust(Duration.seconds(5))
      yield* Fiber.join(delivery)
      const after = yield* Clock.currentTimeMillis
      assert.deepStrictEqual(yield* outbox.claimDue(after + defaultSenderOptions.leaseMillis + 1, 10, defaultSenderOptions.leaseMillis), [], "recorded as sent: never claimed again")
      assert.strictEqual(m.sent.length, 1)
    }).pipe(Effect.provide(InMemorySessionStore)))

  it.live("a shutdown right after a claim still delivers what was claimed (it would have waited a whole lease)", () =>
    Effect.gen(function*() {
      const base = yield* makeInMemoryMessaging
      const claimed = yield* Deferred.make<void>()
      const outbox = Outbox.of({
        ...base.outbox,
        // The claim answers, and the sender is stopped before it goes on.
        claimDue: (now, limit, lease) =>
          base.outbox.claimDue(now, limit, lease).pipe(
            Effect.tap((due) => (due.length > 0 ? Deferred.succeed(claimed, undefined).pipe(Effect.andThen(Effect.sleep("50 millis"))) : Effect.void))
          )
      })
      const m = yield* makeMessenger
      yield* record(other, "claimed at shutdown").pipe(Effect.provideService(Inbox, base.inbox))
      const sender = yield* runOutboxSender({ ...defaultSenderOptions, idlePollMillis: 50 }).pipe(
        Effect.provideService(Outbox, outbox),
        Effect.provideService(Messenger, m.messenger),
        Effect.forkChild
      )
      yield* Deferred.await(claimed)
      yield* Fiber.interrupt(sender)
      assert.deepStrictEqual(m.sent.map((s) => s.body), ["claimed at shutdown"])
    }).pipe(Effect.provide(InMemorySessionStore)))
})
