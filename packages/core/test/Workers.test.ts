import { assert, describe, it } from "@effect/vitest"
import {
  type Claim,
  defaultWorkerOptions,
  handleClaim,
  type Handled,
  InboundMessage,
  Inbox,
  PhoneNumber,
  type Process,
  ReplyHandoff,
  StoreUnavailable,
  type Turn,
  type WorkerOptions
} from "@parley/core"
import { InMemorySessionStore, makeInMemoryMessaging } from "@parley/core/memory"
import { Clock, Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"

const outage = (operation: string) =>
  new StoreUnavailable({ operation, message: "ConnectionError: Connection closed", transient: true })

/** The in-memory inbox behind a switch: while `down`, recording an outcome fails as a lost connection would. */
const flakyInbox = Effect.gen(function*() {
  const base = yield* makeInMemoryMessaging
  const state = { down: false }
  const inbox = Inbox.of({
    ...base.inbox,
    complete: (claim, turn, options) => Effect.suspend(() => (state.down ? Effect.fail(outage("inbox.complete")) : base.inbox.complete(claim, turn, options))),
    fail: (claim, error, now, policy) =>
      Effect.suspend(() => (state.down ? Effect.fail(outage("inbox.fail")) : base.inbox.fail(claim, error, now, policy)))
  })
  return { inbox, state, inspect: base.inspect }
})

const emptyTurn = (at: number): Turn => ({ messages: [], replies: [], escalate: false, at })

/**
 * `handleClaim` with a pipeline that only returns an empty turn. `Process` is
 * typed after the worksite's `processMessage`, whose services this stand-in
 * does not use: the cast drops them from the requirements.
 */
const handleWith = (claim: Claim, options: WorkerOptions, turn: Effect.Effect<Turn>) =>
  handleClaim(claim, options, (() => turn) as unknown as Process) as Effect.Effect<Handled, unknown, Inbox>

describe("workers across a store outage", () => {
  it.effect("a turn that could not be committed while the store was away is committed once it is back, well within the lease", () =>
    Effect.gen(function*() {
      const { inbox, state, inspect } = yield* flakyInbox
      const now = yield* Clock.currentTimeMillis
      const from = PhoneNumber.make("+33611111111")
      yield* inbox.accept([new InboundMessage({ provider: "meta", providerMessageId: "wamid.outage", from, sentAt: now, content: { _tag: "Text", body: "hi" } })], now)
      const options = { ...defaultWorkerOptions, lease: Duration.seconds(15) }
      const claim = (yield* inbox.claim(now, options.lease))!
      state.down = true
      const worker = yield* handleWith(claim, options, Clock.currentTimeMillis.pipe(Effect.map(emptyTurn))).pipe(
        Effect.provideService(Inbox, inbox),
        Effect.forkChild
      )
      yield* TestClock.adjust(Duration.seconds(3))
      state.down = false
      yield* TestClock.adjust(Duration.seconds(3))
      assert.strictEqual((yield* Fiber.join(worker)).outcome, "processed")
      const entry = (yield* inspect).inbox.find((e) => e.entry.message.providerMessageId === "wamid.outage")
      assert.deepStrictEqual([entry?.state, entry?.entry.attempts], ["done", 1], "committed by the same claim, no attempt lost")
    }).pipe(Effect.provide(InMemorySessionStore)))

  it.effect("a shutdown while the commit is retried after a lost answer still hands the reply it leased over", () =>
    Effect.gen(function*() {
      const base = yield* makeInMemoryMessaging
      // The first commit goes through but its answer is lost, as when the connection dies as it commits.
      let attempts = 0
      const inbox = Inbox.of({
        ...base.inbox,
        complete: (claim, turn, options) =>
          Effect.flatMap(base.inbox.complete(claim, turn, options), (completed) => (++attempts === 1 ? Effect.fail(outage("inbox.complete")) : Effect.succeed(completed)))
      })
      const handedOver: Array<string> = []
      const handoff = ReplyHandoff.of({
        leaseMillis: 30_000,
        hasRoom: Effect.succeed(true),
        handOver: (entries) => Effect.sync(() => handedOver.push(...entries.map((e) => e.replyId)))
      })
      const now = yield* Clock.currentTimeMillis
      const from = PhoneNumber.make("+33633333333")
      yield* inbox.accept([new InboundMessage({ provider: "meta", providerMessageId: "wamid.lost", from, sentAt: now, content: { _tag: "Text", body: "hi" } })], now)
      const claim = (yield* inbox.claim(now, defaultWorkerOptions.lease))!
      const turn = Clock.currentTimeMillis.pipe(Effect.map((at): Turn => ({
        messages: [],
        replies: [{ replyId: "meta:wamid.lost:0", to: from, reply: { _tag: "TextReply", body: "hello" } }],
        escalate: false,
        at
      })))
      const worker = yield* handleWith(claim, defaultWorkerOptions, turn).pipe(
        Effect.provideService(Inbox, inbox),
        Effect.provideService(ReplyHandoff, handoff),
        Effect.forkChild
      )
      yield* Effect.repeat(Effect.yieldNow, { times: 50 })
      assert.strictEqual(attempts, 1, "the first attempt committed, its answer lost: the worker waits to retry")
      // The shutdown comes during that wait.
      const stopping = yield* Effect.forkChild(Fiber.interrupt(worker))
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(stopping)
      assert.deepStrictEqual(handedOver, ["meta:wamid.lost:0"], "the retry found the reply leased to this claim and handed it over")
    }).pipe(Effect.provide(InMemorySessionStore)))

  it.effect("a sender without a free slot is handed nothing: the reply is left in the outbox to be claimed", () =>
    Effect.gen(function*() {
      const base = yield* makeInMemoryMessaging
      const handedOver: Array<string> = []
      const full = ReplyHandoff.of({
        leaseMillis: 30_000,
        hasRoom: Effect.succeed(false),
        handOver: (entries) => Effect.sync(() => handedOver.push(...entries.map((e) => e.replyId)))
      })
      const now = yield* Clock.currentTimeMillis
      const from = PhoneNumber.make("+33644444444")
      yield* base.inbox.accept([new InboundMessage({ provider: "meta", providerMessageId: "wamid.full", from, sentAt: now, content: { _tag: "Text", body: "hi" } })], now)
      const claim = (yield* base.inbox.claim(now, defaultWorkerOptions.lease))!
      const turn = Effect.succeed<Turn>({ messages: [], replies: [{ replyId: "meta:wamid.full:0", to: from, reply: { _tag: "TextReply", body: "hello" } }], escalate: false, at: now })
      const handled = yield* handleWith(claim, defaultWorkerOptions, turn).pipe(Effect.provideService(Inbox, base.inbox), Effect.provideService(ReplyHandoff, full))
      assert.strictEqual(handled.outcome, "processed")
      assert.deepStrictEqual(handedOver, [])
      assert.deepStrictEqual((yield* base.outbox.claimDue(now, 10, 30_000)).map((e) => e.replyId), ["meta:wamid.full:0"], "claimable at once")
    }).pipe(Effect.provide(InMemorySessionStore)))

  it.effect("a refusal that is not an outage is not retried: the entry is failed at once", () =>
    Effect.gen(function*() {
      const { inbox, inspect } = yield* flakyInbox
      const now = yield* Clock.currentTimeMillis
      const from = PhoneNumber.make("+33622222222")
      yield* inbox.accept([new InboundMessage({ provider: "meta", providerMessageId: "wamid.refused", from, sentAt: now, content: { _tag: "Text", body: "hi" } })], now)
      const claim = (yield* inbox.claim(now, defaultWorkerOptions.lease))!
      const refusing = Inbox.of({
        ...inbox,
        complete: () => Effect.fail(new StoreUnavailable({ operation: "inbox.complete", message: "ConstraintError (23503): violates foreign key" }))
      })
      const outcome = yield* handleWith(claim, defaultWorkerOptions, Effect.succeed(emptyTurn(now))).pipe(Effect.provideService(Inbox, refusing))
      assert.strictEqual(outcome.outcome, "retried")
      const entry = (yield* inspect).inbox.find((e) => e.entry.message.providerMessageId === "wamid.refused")
      assert.strictEqual(entry?.state, "pending")
    }).pipe(Effect.provide(InMemorySessionStore)))
})
