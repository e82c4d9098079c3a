import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { Inbox, InboundMessage, PhoneNumber, type Claim } from "@parley/core"
import { PgMessaging } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { Deferred, Duration, Effect, Fiber, Layer } from "effect"

/**
 * Guarantee 3 under a commit race, deterministically: a user's message A is
 * accepted in a transaction that stays open (a slow webhook request) while the
 * same user's next message B is accepted and a worker claims. Ids are taken at
 * INSERT but become visible at COMMIT, so "the sender's lowest pending id" let
 * a worker claim B before A existed for it, and A afterwards: two messages of
 * one user in flight, out of order.
 */
const lease = Duration.seconds(60)
const now = 1_700_000_000_000

const message = (from: PhoneNumber, body: string) =>
  new InboundMessage({
    provider: "meta",
    providerMessageId: `wamid.order.${crypto.randomUUID()}`,
    from,
    sentAt: 0,
    content: { _tag: "Text", body }
  })

const sender = () => PhoneNumber.make(`+3367${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`)

/** Claims every entry that is claimable now and returns those of `from` (the others stay leased: each test has its own sender). */
const claimAll = (from: PhoneNumber, at: number) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const claims: Array<Claim> = []
    while (true) {
      const claim = yield* inbox.claim(at, lease)
      if (claim === undefined) return claims
      if (claim.entry.message.from === from) claims.push(claim)
    }
  })

/** Waits until `fiber` is done or some backend of this database waits on a lock. */
const doneOrBlocked = (fiber: Fiber.Fiber<unknown, unknown>) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    for (let i = 0; i < 200; i++) {
      if (fiber.pollUnsafe() !== undefined) return "done" as const
      const [row] = yield* sql<{ waiting: number }>`
        SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`
      if ((row?.waiting ?? 0) > 0) return "blocked" as const
      yield* Effect.sleep(Duration.millis(25))
    }
    return assert.fail("the second accept neither finished nor waited on a lock within 5 s")
  })

describe("per-user order when an earlier message commits last", () => {
  layer(PgMessaging.pipe(Layer.provideMerge(TestDatabase({ maxConnections: 8 }))), { timeout: Duration.seconds(60), excludeTestServices: true })((it) => {
    it.effect("B is never claimed before A, nor while A is in flight", () =>
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        const inbox = yield* Inbox
        const from = sender()
        const a = message(from, "1")
        const b = message(from, "2")
        const aInserted = yield* Deferred.make<void>()
        const commitA = yield* Deferred.make<void>()
        // A's accepting transaction: inserted, not yet committed.
        const acceptA = yield* sql.withTransaction(Effect.gen(function*() {
          yield* inbox.accept([a], now)
          yield* Deferred.succeed(aInserted, undefined)
          yield* Deferred.await(commitA)
        })).pipe(Effect.forkChild)
        yield* Deferred.await(aInserted)
        const acceptB = yield* inbox.accept([b], now + 1).pipe(Effect.forkChild)
        yield* doneOrBlocked(acceptB)

        const early = yield* claimAll(from, now + 2)
        assert.deepStrictEqual(early.map((c) => c.entry.message.providerMessageId), [], "nothing of this user may be claimed while A is uncommitted")

        yield* Deferred.succeed(commitA, undefined)
        yield* Fiber.join(acceptA)
        yield* Fiber.join(acceptB)
        const first = yield* claimAll(from, now + 3)
        assert.deepStrictEqual(first.map((c) => c.entry.message.providerMessageId), [a.providerMessageId], "A first, and B waits while A is in flight")
        yield* inbox.complete(first[0]!, { messages: [], replies: [], escalate: false, at: now + 4 })
        const second = yield* claimAll(from, now + 5)
        assert.deepStrictEqual(second.map((c) => c.entry.message.providerMessageId), [b.providerMessageId])
        yield* inbox.complete(second[0]!, { messages: [], replies: [], escalate: false, at: now + 6 })
      }))
  })
})
