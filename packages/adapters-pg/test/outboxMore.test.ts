import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { type Claim, InboundMessage, Inbox, Outbox, PhoneNumber } from "@parley/core"
import { PgMessaging } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { Deferred, Duration, Effect, Fiber, Layer } from "effect"

/**
 * The sender claims again after a delivery only when `markSent` says the
 * recipient has more. A turn for the same recipient committed by another
 * instance while the delivery is being recorded must be seen by one side:
 * either the commit sees the previous reply sent (and leases its own), or
 * markSent sees the new reply. Deterministically: the commit's transaction is
 * held open after it wrote the new reply, and markSent runs meanwhile — as one
 * statement with one snapshot it answered "nothing more" and the new reply
 * waited for a sender's idle poll.
 */
const lease = Duration.seconds(60)
const now = 1_750_000_000_000

const recipient = () => PhoneNumber.make(`+3368${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`)
const message = (from: PhoneNumber) =>
  new InboundMessage({ provider: "meta", providerMessageId: `wamid.more.${crypto.randomUUID()}`, from, sentAt: 0, content: { _tag: "Text", body: "hi" } })

/** Accepts one message of `from` and claims it (other claimable entries are released). */
const claimOne = (from: PhoneNumber, at: number) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const m = message(from)
    yield* inbox.accept([m], at)
    const others: Array<Claim> = []
    while (true) {
      const claim = yield* inbox.claim(at, lease)
      if (claim === undefined) return yield* Effect.die(new Error("the message cannot be claimed"))
      if (claim.entry.message.providerMessageId === m.providerMessageId) {
        yield* Effect.forEach(others, (c) => inbox.release(c), { discard: true })
        return claim
      }
      others.push(claim)
    }
  })

const replyOf = (claim: Claim, to: PhoneNumber) => ({
  replyId: `meta:${claim.entry.message.providerMessageId}:0`,
  to,
  reply: { _tag: "TextReply" as const, body: "reply" }
})

describe("markSent and a commit for the same recipient, interleaved", () => {
  layer(PgMessaging.pipe(Layer.provideMerge(TestDatabase({ maxConnections: 8 }))), { timeout: Duration.seconds(60), excludeTestServices: true })((it) => {
    it.effect("markSent waits for the recipient's commit under way and reports the reply it added", () =>
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        const inbox = yield* Inbox
        const outbox = yield* Outbox
        const to = recipient()
        // r1: committed and leased to this process, as a worker with a sender commits it.
        const first = yield* claimOne(to, now)
        const r1 = yield* inbox.complete(first, { messages: [], replies: [replyOf(first, to)], escalate: false, at: now }, { now, leaseRepliesFor: 30_000 })
        assert.strictEqual(r1.leased.length, 1)
        // r2: the user's next turn, committed by "another instance" in a transaction held open.
        const second = yield* claimOne(to, now + 1)
        const written = yield* Deferred.make<void>()
        const finish = yield* Deferred.make<void>()
        const commit = yield* sql.withTransaction(Effect.gen(function*() {
          const completed = yield* inbox.complete(second, { messages: [], replies: [replyOf(second, to)], escalate: false, at: now + 2 }, { now: now + 2, leaseRepliesFor: 30_000 })
          yield* Deferred.succeed(written, undefined)
          yield* Deferred.await(finish)
          return completed
        })).pipe(Effect.forkChild)
        yield* Deferred.await(written)
        // Meanwhile r1's delivery is recorded.
        const marked = yield* outbox.markSent(r1.leased[0]!, `wamid.more.sent.${crypto.randomUUID()}`, now + 3).pipe(Effect.forkChild)
        yield* Effect.sleep(Duration.millis(300))
        yield* Deferred.succeed(finish, undefined)
        const r2 = yield* Fiber.join(commit)
        assert.deepStrictEqual(r2.leased, [], "r1 was pending when the commit looked: r2 is not leased")
        assert.deepStrictEqual(yield* Fiber.join(marked), { outcome: "sent", more: true }, "so markSent must report it")
      }))
  })
})
