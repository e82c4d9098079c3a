import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { Inbox, type Claim, type RetryPolicy } from "../../intake/Inbox.ts"
import { InboundMessage } from "../../channel/InboundMessage.ts"
import { PhoneNumber } from "../../channel/PhoneNumber.ts"
import type { Turn } from "../../conversation/Turn.ts"
import { runInboxSchedule, inboxScheduleArbitrary } from "../properties/InboxSchedule.ts"
import { checkProperty, failureReport, resolveRuns, type PropertyRuns } from "../properties/PropertyRuns.ts"

const lease = Duration.seconds(60)
const policy: RetryPolicy = { maxAttempts: 3, backoff: (attempt) => Duration.seconds(10 * attempt) }

/** A fresh sender per test keeps tests independent on a shared store. */
const sender = () => PhoneNumber.make(`+3361${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`)
let counter = 0
const message = (from: PhoneNumber, body = "hello") =>
  new InboundMessage({
    provider: "meta",
    providerMessageId: `wamid.contract.${Date.now()}.${++counter}.${Math.random()}`,
    from,
    sentAt: 0,
    content: { _tag: "Text", body }
  })
const emptyTurn = (at: number): Turn => ({ messages: [], replies: [], escalate: false, at })

/**
 * Claims until it finds one of `from`'s entries (other tests' entries on a
 * shared store are released untouched), at time `now`.
 */
const claimOf = (from: PhoneNumber, now: number) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const others: Array<Claim> = []
    let mine: Claim | undefined
    while (true) {
      const claim = yield* inbox.claim(now, lease)
      if (claim === undefined) break
      if (claim.entry.message.from === from) {
        mine = claim
        break
      }
      others.push(claim)
    }
    yield* Effect.forEach(others, (c) => inbox.release(c), { discard: true })
    return mine
  })

export interface InboxContractOptions<E> extends PropertyRuns {
  /** Built once for the suite; tests use fresh senders, so no reset is needed. */
  readonly layer: Layer.Layer<Inbox, E>
}

/**
 * The `Inbox` contract (see its doc comment), for every implementation:
 * deterministic cases, then the property over random schedules of webhooks,
 * redeliveries and competing workers. Times are explicit, far apart per test.
 */
export const inboxContract = <E>(name: string, layerOrOptions: Layer.Layer<Inbox, E> | InboxContractOptions<E>): void => {
  const options = Layer.isLayer(layerOrOptions)
    ? { layer: layerOrOptions as Layer.Layer<Inbox, E> }
    : layerOrOptions as InboxContractOptions<E>
  const inboxLayer = options.layer
  const { numRuns, seed } = resolveRuns(options, 50)
  describe(`Inbox contract: ${name}`, () => {
    layer(inboxLayer, { timeout: Duration.seconds(60) })((it) => {
      it.effect("accept deduplicates by provider message id", () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const m = message(sender())
          const first = yield* inbox.accept([m, m], 1_000)
          const again = yield* inbox.accept([m], 2_000)
          assert.deepStrictEqual([first.accepted, first.duplicates, again.accepted, again.duplicates], [1, 1, 0, 1])
        }))

      it.effect("one entry per user in flight, in arrival order; other users proceed", () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const alice = sender()
          const bob = sender()
          const [a1, a2, b1] = [message(alice, "a1"), message(alice, "a2"), message(bob, "b1")]
          yield* inbox.accept([a1, a2], 1_000)
          yield* inbox.accept([b1], 1_001)
          const first = yield* claimOf(alice, 2_000)
          assert.strictEqual(first?.entry.message.providerMessageId, a1.providerMessageId)
          assert.isUndefined(yield* claimOf(alice, 2_000), "alice's a2 waits while a1 is in flight")
          const bobs = yield* claimOf(bob, 2_000)
          assert.strictEqual(bobs?.entry.message.providerMessageId, b1.providerMessageId)
          yield* inbox.complete(first!, emptyTurn(2_000))
          const second = yield* claimOf(alice, 2_001)
          assert.strictEqual(second?.entry.message.providerMessageId, a2.providerMessageId)
          yield* inbox.complete(second!, emptyTurn(2_001))
          yield* inbox.complete(bobs!, emptyTurn(2_001))
          assert.isUndefined(yield* claimOf(alice, 10_000))
        }))

      it.effect("complete says whether another message is ready, so a worker need not claim to find out", () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const alice = sender()
          const bob = sender()
          const [a1, a2, b1] = [message(alice, "a1"), message(alice, "a2"), message(bob, "b1")]
          // Times before every other test's: nothing of theirs is ready this early.
          yield* inbox.accept([a1, a2], 100)
          yield* inbox.accept([b1], 101)
          const first = yield* claimOf(alice, 200)
          const bobs = yield* claimOf(bob, 200)
          assert.isTrue((yield* inbox.complete(first!, emptyTurn(200), { now: 200 })).more, "alice's a2 became ready")
          const second = yield* claimOf(alice, 201)
          assert.strictEqual(second?.entry.message.providerMessageId, a2.providerMessageId)
          assert.isFalse((yield* inbox.complete(bobs!, emptyTurn(202), { now: 202 })).more, "a2 is in flight, nothing else is ready")
          const last = yield* inbox.complete(second!, emptyTurn(203), { now: 203 })
          assert.deepStrictEqual([last.more, last.leased], [false, []], "nothing left, and a turn without replies leases none")
        }))

      it.effect("an expired lease is taken over and fences the first worker out", () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const from = sender()
          yield* inbox.accept([message(from)], 1_000)
          const first = (yield* claimOf(from, 2_000))!
          assert.isUndefined(yield* claimOf(from, 2_000 + 59_000), "still leased")
          const second = (yield* claimOf(from, 2_000 + 61_000))!
          assert.strictEqual(second.entry.id, first.entry.id)
          assert.strictEqual(second.entry.attempts, 2)
          const lost = yield* Effect.flip(inbox.complete(first, emptyTurn(64_000)))
          assert.strictEqual(lost._tag, "LeaseLost")
          yield* inbox.complete(second, emptyTurn(64_000))
        }))

      it.effect("extend keeps a live worker's lease", () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const from = sender()
          yield* inbox.accept([message(from)], 1_000)
          const claim = (yield* claimOf(from, 2_000))!
          const extended = yield* inbox.extend(claim, 50_000, lease)
          assert.isUndefined(yield* claimOf(from, 100_000), "the renewed lease runs to 110 s")
          yield* inbox.complete(extended, emptyTurn(100_000))
        }))

      it.effect("failures retry with backoff, then park the entry as dead and unblock the user", () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const from = sender()
          const poison = message(from, "poison")
          const next = message(from, "next")
          yield* inbox.accept([poison, next], 1_000)
          let now = 2_000
          const c1 = (yield* claimOf(from, now))!
          assert.strictEqual(yield* inbox.fail(c1, "boom 1", now, policy), "retry")
          assert.isUndefined(yield* claimOf(from, now + 9_000), "backing off 10 s, and next waits behind it")
          now += 10_000
          const c2 = (yield* claimOf(from, now))!
          assert.strictEqual(c2.entry.id, c1.entry.id)
          assert.strictEqual(yield* inbox.fail(c2, "boom 2", now, policy), "retry")
          now += 20_000
          const c3 = (yield* claimOf(from, now))!
          assert.strictEqual(yield* inbox.fail(c3, "boom 3", now, policy), "dead")
          const dead = (yield* inbox.listDead(1_000)).find((d) => d.entry.id === c1.entry.id)
          assert.strictEqual(dead?.error, "boom 3")
          const unblocked = (yield* claimOf(from, now))!
          assert.strictEqual(unblocked.entry.message.providerMessageId, next.providerMessageId)
          yield* inbox.complete(unblocked, emptyTurn(now))
          assert.isTrue(yield* inbox.retryDead(c1.entry.id, now))
          const again = (yield* claimOf(from, now))!
          assert.strictEqual(again.entry.id, c1.entry.id)
          assert.strictEqual(again.entry.attempts, 1)
          yield* inbox.complete(again, emptyTurn(now))
          assert.isFalse(yield* inbox.retryDead(c1.entry.id, now), "only dead entries can be retried")
        }))

      it.effect("a dead entry put back goes to the end of its user's queue, never beside one in flight", () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const from = sender()
          const poison = message(from, "poison")
          const next = message(from, "next")
          yield* inbox.accept([poison, next], 1_000)
          const c1 = (yield* claimOf(from, 2_000))!
          assert.strictEqual(yield* inbox.fail(c1, "boom", 2_000, { maxAttempts: 1, backoff: () => Duration.seconds(1) }), "dead")
          const inFlight = (yield* claimOf(from, 2_000))!
          assert.strictEqual(inFlight.entry.message.providerMessageId, next.providerMessageId)
          assert.isTrue(yield* inbox.retryDead(c1.entry.id, 2_000))
          assert.isUndefined(yield* claimOf(from, 2_000), "the retried entry waits while `next` is in flight")
          yield* inbox.complete(inFlight, emptyTurn(2_000))
          const again = (yield* claimOf(from, 2_000))!
          assert.strictEqual(again.entry.message.providerMessageId, poison.providerMessageId)
          yield* inbox.complete(again, emptyTurn(2_000))
        }))

      it.effect("release gives the entry back at once without counting an attempt", () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const from = sender()
          yield* inbox.accept([message(from)], 1_000)
          const claim = (yield* claimOf(from, 2_000))!
          yield* inbox.release(claim)
          const again = (yield* claimOf(from, 2_000))!
          assert.strictEqual(again.entry.attempts, 1)
          yield* inbox.complete(again, emptyTurn(2_000))
        }))

      it.effect(`property: random webhooks, redeliveries and competing workers keep every invariant (${numRuns} runs)`, () =>
        Effect.gen(function*() {
          const context = yield* Effect.context<Inbox>()
          const details = yield* checkProperty(inboxScheduleArbitrary, (schedule) => Effect.runPromiseWith(context)(runInboxSchedule(schedule)), { numRuns, seed })
          // The report names the seed and the shrunk schedule, so a failure can be replayed.
          assert.isFalse(details.failed, failureReport(details))
          assert.strictEqual(details.numRuns, numRuns)
        }))
    })
  })
}
