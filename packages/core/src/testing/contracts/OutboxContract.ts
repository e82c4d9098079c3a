import { assert, describe, layer } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Layer, Metric } from "effect"
import { TestClock } from "effect/testing"
import type { SessionId } from "../../identity/Ids.ts"
import { Inbox, type Claim, type CompleteOptions } from "../../intake/Inbox.ts"
import { InboundMessage } from "../../channel/InboundMessage.ts"
import { Outbox, type OutboxEntry } from "../../delivery/Outbox.ts"
import { deliver, defaultSenderOptions, runOutboxSender, type SenderOptions } from "../../delivery/OutboxSender.ts"
import { PhoneNumber } from "../../channel/PhoneNumber.ts"
import { outboxEvents } from "../../pipeline/PipelineMetrics.ts"
import type { OutgoingReply } from "../../conversation/Turn.ts"
import * as fc from "fast-check"
import { checkProperty, failureReport, resolveRuns, type PropertyRuns } from "../properties/PropertyRuns.ts"
import { RecordingMessenger, RecordingMessengerLayer, sendFailure } from "../doubles/RecordingMessenger.ts"

const lease = 30_000
const inboxLease = Duration.seconds(60)

/** A fresh recipient per test keeps tests independent on a shared store. */
const recipient = () => PhoneNumber.make(`+3362${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`)

/**
 * Records `count` replies to `to` the only way replies enter the outbox: as
 * the turn `Inbox.complete` commits for one of `to`'s messages.
 */
const record = (to: PhoneNumber, count: number, at: number, sessionId?: SessionId) =>
  Effect.map(commitReplies(to, count, at, sessionId), ({ replyIds }) => replyIds)

/** Accepts a message from `to` and claims it (other tests' entries on a shared inbox are given back untouched). */
const acceptAndClaim = (to: PhoneNumber, at: number) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const id = `wamid.outbox.${crypto.randomUUID()}`
    yield* inbox.accept([new InboundMessage({ provider: "meta", providerMessageId: id, from: to, sentAt: at, content: { _tag: "Text", body: "hi" } })], at)
    const others: Array<Claim> = []
    let claim: Claim | undefined
    while (claim === undefined) {
      const next = yield* inbox.claim(at, inboxLease)
      if (next === undefined) return yield* Effect.die(new Error(`the message from ${to} cannot be claimed`))
      if (next.entry.message.providerMessageId === id) claim = next
      else others.push(next)
    }
    yield* Effect.forEach(others, (c) => inbox.release(c), { discard: true })
    return { id, claim }
  })

/** `record`, committed with `options` (a lease for the committing worker): the reply ids and what `complete` said. */
const commitReplies = (to: PhoneNumber, count: number, at: number, sessionId?: SessionId, options?: CompleteOptions) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const { id, claim } = yield* acceptAndClaim(to, at)
    const replies = Array.from({ length: count }, (_, i): OutgoingReply => ({
      replyId: `meta:${id}:${i}`,
      to,
      reply: { _tag: "TextReply", body: `reply ${i}` },
      ...(sessionId === undefined ? {} : { sessionId })
    }))
    const completed = yield* inbox.complete(claim, { messages: [], replies, escalate: false, at, ...(sessionId === undefined ? {} : { sessionId }) }, options)
    return { replyIds: replies.map((r) => r.replyId), completed }
  })

/** Claims what is due at `now` and keeps the entries for `to` (others' are leased too, which these tests account for). */
const due = (to: PhoneNumber, now: number) =>
  Effect.gen(function*() {
    const entries = yield* (yield* Outbox).claimDue(now, 1_000, lease)
    for (const e of entries) if (e.to !== to) claimedElsewhere.set(e.replyId, e)
    return entries.filter((e) => e.to === to)
  })

const ids = (entries: ReadonlyArray<OutboxEntry>) => entries.map((e) => e.replyId)

/** Claims made by `due` for other recipients, by reply id: the entry (and its token) a test later marks. */
const claimedElsewhere = new Map<string, OutboxEntry>()

/** The entry for `replyId` that an earlier `due` claimed while looking for another recipient's replies. */
const claimedEarlier = (to: PhoneNumber, replyId: string) =>
  Effect.suspend(() => {
    const entry = claimedElsewhere.get(replyId)
    return entry?.to === to ? Effect.succeed(entry) : Effect.die(new Error(`${replyId} was not claimed earlier`))
  })

const outboxCount = (event: string) =>
  Effect.map(Metric.value(Metric.withAttributes(outboxEvents, { event })), (s) => s.count)

/**
 * Lets a forked sender run until `check` holds: fibers yield, a store across
 * the network gets a few real milliseconds, and virtual time moves by `tick`
 * (a sender that was mid-query when the clock last moved polls again).
 */
const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, what: string, tick = Duration.zero) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      if (yield* check) return
      yield* Effect.repeat(Effect.yieldNow, { times: 20 })
      yield* TestClock.withLive(Effect.sleep(Duration.millis(5)))
      yield* TestClock.adjust(tick)
    }
    return yield* Effect.die(new Error(`never happened: ${what}`))
  })

export interface OutboxContractOptions<E, R> extends PropertyRuns {
  /** An `Inbox` and the `Outbox` its `complete` writes to, built once for the suite. */
  readonly layer: Layer.Layer<Inbox | Outbox | R, E>
  /** A session a reply may belong to (on Postgres, a real one: the outbox references it). */
  readonly newSession: Effect.Effect<SessionId, unknown, Inbox | Outbox | R>
}

/**
 * The `Outbox` contract (see its doc comment), and the sender on top of it,
 * for every implementation: per-recipient order, leases, retries and dead
 * replies, the session of a sent reply. Tests leave nothing pending, so they
 * can share one store.
 */
export const outboxContract = <E, R = never>(name: string, options: OutboxContractOptions<E, R>): void => {
  const { numRuns, seed } = resolveRuns(options, 30)
  describe(`Outbox contract: ${name}`, () => {
    layer(options.layer, { timeout: Duration.seconds(60) })((it) => {
      it.effect("only each recipient's oldest pending reply is claimable, so replies go out in order", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const alice = recipient()
          const bob = recipient()
          const t = 1_000_000
          const [a0, a1, a2] = yield* record(alice, 3, t)
          const [b0] = yield* record(bob, 1, t)
          const first = yield* due(alice, t)
          assert.deepStrictEqual(ids(first), [a0], "alice's later replies wait for her first")
          const bobs = yield* due(bob, t)
          assert.deepStrictEqual(ids(bobs), [], "bob's first was claimed along with alice's")
          const claimedB0 = yield* claimedEarlier(bob, b0!)
          assert.strictEqual((yield* outbox.markSent(claimedB0, "wamid.b0", t)).outcome, "sent")
          assert.deepStrictEqual(ids(yield* due(alice, t)), [], "a0 is leased and still pending: a1 may not overtake it")
          yield* outbox.markSent(first[0]!, "wamid.a0", t)
          const second = yield* due(alice, t)
          assert.deepStrictEqual(ids(second), [a1])
          assert.strictEqual(second[0]!.reply.body, "reply 1")
          assert.strictEqual(second[0]!.attempts, 1)
          yield* outbox.markSent(second[0]!, "wamid.a1", t)
          const third = yield* due(alice, t)
          assert.deepStrictEqual(ids(third), [a2])
          yield* outbox.markSent(third[0]!, "wamid.a2", t)
          assert.deepStrictEqual(ids(yield* due(alice, t + 10 * lease)), [], "sent replies are never claimed again")
        }))

      it.effect("a turn's first reply is leased to the worker that committed it when it is its recipient's next; markSent says what is left", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const alice = recipient()
          const t = 1_500_000
          const { replyIds: [a0, a1], completed } = yield* commitReplies(alice, 2, t, undefined, { now: t, leaseRepliesFor: lease })
          assert.deepStrictEqual([ids(completed.leased), completed.leased[0]?.attempts, completed.leased[0]?.reply.body], [[a0], 1, "reply 0"])
          assert.deepStrictEqual(ids(yield* due(alice, t)), [], "the leased reply is not claimable, and the next waits behind it")
          assert.deepStrictEqual(yield* outbox.markSent(completed.leased[0]!, `wamid.l0.${a0}`, t), { outcome: "sent", more: true })
          const next = yield* due(alice, t)
          assert.deepStrictEqual(ids(next), [a1])
          assert.deepStrictEqual(yield* outbox.markSent(next[0]!, `wamid.l1.${a1}`, t), { outcome: "sent", more: false })
        }))

      it.effect("a turn's reply is not leased while an earlier reply of its recipient is pending: order comes first", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const bob = recipient()
          const t = 1_600_000
          const [b0] = yield* record(bob, 1, t)
          const { replyIds: [b1], completed } = yield* commitReplies(bob, 1, t + 1, undefined, { now: t + 1, leaseRepliesFor: lease })
          assert.deepStrictEqual(completed.leased, [])
          const first = yield* due(bob, t + 2)
          assert.deepStrictEqual(ids(first), [b0])
          assert.deepStrictEqual(yield* outbox.markSent(first[0]!, `wamid.p0.${b0}`, t + 2), { outcome: "sent", more: true })
          const second = yield* due(bob, t + 3)
          assert.deepStrictEqual(ids(second), [b1])
          assert.deepStrictEqual(yield* outbox.markSent(second[0]!, `wamid.p1.${b1}`, t + 3), { outcome: "sent", more: false })
        }))

      it.effect("a commit retried after its answer was lost hands back the reply it leased, which nobody else can claim", () =>
        Effect.gen(function*() {
          const inbox = yield* Inbox
          const outbox = yield* Outbox
          const dan = recipient()
          const t = 1_650_000
          const { id, claim } = yield* acceptAndClaim(dan, t)
          const turn = { messages: [], replies: [{ replyId: `meta:${id}:0`, to: dan, reply: { _tag: "TextReply" as const, body: "reply 0" } }], escalate: false, at: t }
          const first = yield* inbox.complete(claim, turn, { now: t, leaseRepliesFor: lease })
          // The same commit again, as a worker whose connection died before the answer retries it.
          const again = yield* inbox.complete(claim, turn, { now: t + 10_000, leaseRepliesFor: lease })
          assert.deepStrictEqual(ids(again.leased), ids(first.leased))
          assert.strictEqual(again.leased[0]?.token, first.leased[0]?.token)
          assert.deepStrictEqual(ids(yield* due(dan, t + lease + 5_000)), [], "its lease started again with the retry: a whole lease to send and record it")
          assert.strictEqual((yield* outbox.markSent(again.leased[0]!, `wamid.r.${id}`, t + lease + 6_000)).outcome, "sent")
          const lost = yield* Effect.flip(inbox.complete(claim, turn, { now: t + lease + 7_000, leaseRepliesFor: lease }))
          assert.strictEqual(lost._tag, "LeaseLost", "once the reply is sent there is nothing to hand back")
        }))

      it.effect("a leased reply whose worker died is claimed once its lease passes, and that worker's late failure changes nothing", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const carol = recipient()
          const t = 1_700_000
          const { replyIds: [c0], completed } = yield* commitReplies(carol, 1, t, undefined, { now: t, leaseRepliesFor: lease })
          assert.deepStrictEqual(ids(yield* due(carol, t + lease - 1)), [], "held for the whole lease")
          const taken = yield* due(carol, t + lease + 1)
          assert.deepStrictEqual([ids(taken), taken[0]?.attempts], [[c0], 2])
          assert.strictEqual(yield* outbox.markFailed(completed.leased[0]!, "timeout: late", t + lease + 2, t + lease + 2), "stale")
          assert.deepStrictEqual(yield* outbox.markSent(taken[0]!, `wamid.d0.${c0}`, t + lease + 3), { outcome: "sent", more: false })
        }))

      it.effect("a claimed reply is leased: not claimed again until the lease passes, then with one more attempt", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const to = recipient()
          const t = 2_000_000
          const [r0] = yield* record(to, 1, t)
          const first = yield* due(to, t)
          assert.deepStrictEqual([ids(first), first[0]!.attempts], [[r0], 1])
          assert.deepStrictEqual(ids(yield* due(to, t + lease - 1_000)), [], "still leased")
          const again = yield* due(to, t + lease + 1_000)
          assert.deepStrictEqual([ids(again), again[0]!.attempts], [[r0], 2], "a sender that died before markSent is taken over")
          assert.notStrictEqual(again[0]!.token, first[0]!.token, "each claim has its own token")
          yield* outbox.markSent(again[0]!, "wamid.lease", t + lease + 1_000)
        }))

      it.effect("a stale claim is fenced: its late failure neither reopens nor kills the reply, and every copy's id leads to the session", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const session = yield* options.newSession
          const to = recipient()
          const t = 2_500_000
          const [r0, r1] = yield* record(to, 2, t, session)
          const stale = (yield* due(to, t))[0]!
          const current = (yield* due(to, t + lease + 1_000))[0]!
          assert.strictEqual(current.replyId, r0)
          // The stale sender's send did go out after all, slowly: both copies exist.
          const firstCopy = `wamid.copy1.${crypto.randomUUID()}`
          const secondCopy = `wamid.copy2.${crypto.randomUUID()}`
          assert.strictEqual((yield* outbox.markSent(current, secondCopy, t + lease + 2_000)).outcome, "sent")
          assert.strictEqual((yield* outbox.markSent(stale, firstCopy, t + lease + 3_000)).outcome, "duplicate", "a second copy is reported, not recorded over the first")
          assert.strictEqual(yield* outbox.sessionOfSent(firstCopy), session, "a tap on the first copy carries the session")
          assert.strictEqual(yield* outbox.sessionOfSent(secondCopy), session, "and so does a tap on the second")
          assert.strictEqual(yield* outbox.markFailed(stale, "transient: late 500", t + lease + 60_000, t + lease + 4_000), "stale")
          assert.strictEqual(yield* outbox.markFailed(stale, "rejected: late 400", undefined, t + lease + 4_000), "stale")
          assert.deepStrictEqual(ids(yield* due(to, t + 10 * lease)), [r1], "r0 stays sent: never claimed again; r1 goes out")
          const next = (yield* due(to, t + 10 * lease + lease + 1))
          assert.deepStrictEqual(ids(next), [r1], "r1 taken over after its lease")
          yield* outbox.markSent(next[0]!, `wamid.r1.${crypto.randomUUID()}`, t + 12 * lease)
        }))

      it.effect("a failure reported under a claim that was taken over changes nothing", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const to = recipient()
          const t = 2_700_000
          const [r0] = yield* record(to, 1, t)
          const stale = (yield* due(to, t))[0]!
          const current = (yield* due(to, t + lease + 1_000))[0]!
          assert.strictEqual(yield* outbox.markFailed(stale, "rejected: late", undefined, t + lease + 2_000), "stale", "the reply is not parked by a stale claim")
          assert.deepStrictEqual(ids(yield* due(to, t + lease + 2_000)), [], "still leased to the current claim")
          assert.strictEqual(yield* outbox.markFailed(current, "transient: 503", t + lease + 10_000, t + lease + 2_000), "recorded")
          assert.strictEqual(yield* outbox.markFailed(current, "transient: again", t + lease + 10_000, t + lease + 2_000), "stale", "a claim records one outcome")
          const retried = yield* due(to, t + lease + 10_000)
          assert.deepStrictEqual(ids(retried), [r0])
          yield* outbox.markSent(retried[0]!, `wamid.fenced.${crypto.randomUUID()}`, t + lease + 10_000)
        }))

      it.effect("markFailed with a retry time holds the recipient's later replies back until then", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const to = recipient()
          const t = 3_000_000
          const [r0, r1] = yield* record(to, 2, t)
          const claimed = yield* due(to, t)
          assert.strictEqual(yield* outbox.markFailed(claimed[0]!, "transient: 503", t + 10_000, t), "recorded")
          assert.deepStrictEqual(ids(yield* due(to, t + 5_000)), [], "r0 waits for its retry, and r1 behind it")
          const retried = yield* due(to, t + 10_000)
          assert.deepStrictEqual([ids(retried), retried[0]!.attempts], [[r0], 2])
          yield* outbox.markSent(retried[0]!, "wamid.retried", t + 10_000)
          const after = yield* due(to, t + 10_000)
          assert.deepStrictEqual(ids(after), [r1])
          yield* outbox.markSent(after[0]!, "wamid.after", t + 10_000)
        }))

      it.effect("markFailed without a retry parks the reply as dead: never claimed again, the next one goes out", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const to = recipient()
          const t = 4_000_000
          const [, r1] = yield* record(to, 2, t)
          const claimed = yield* due(to, t)
          yield* outbox.markFailed(claimed[0]!, "invalid_recipient: no WhatsApp", undefined, t)
          const next = yield* due(to, t)
          assert.deepStrictEqual(ids(next), [r1], "a dead reply does not block its recipient")
          yield* outbox.markSent(next[0]!, "wamid.next", t)
          assert.deepStrictEqual(ids(yield* due(to, t + 100 * lease)), [])
        }))

      it.effect("dead replies are listed for operators, and a retry puts one back at once with a fresh attempt count", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const to = recipient()
          const t = 4_500_000
          const [r0] = yield* record(to, 1, t)
          const [claimed] = yield* due(to, t)
          yield* outbox.markFailed(claimed!, "rejected: (#131008) Required parameter is missing", undefined, t + 1)
          const dead = (yield* outbox.listDead(1_000)).filter((d) => d.replyId === r0)
          assert.deepStrictEqual(dead.map((d) => [d.to, d.attempts, d.error, d.failedAt]), [[to, 1, "rejected: (#131008) Required parameter is missing", t + 1]])
          assert.isFalse(yield* outbox.retryDead("meta:no-such-reply:0", t + 2), "an unknown reply")
          assert.isTrue(yield* outbox.retryDead(r0!, t + 2))
          assert.isFalse(yield* outbox.retryDead(r0!, t + 2), "only a dead reply is retried")
          assert.deepStrictEqual((yield* outbox.listDead(1_000)).filter((d) => d.replyId === r0), [], "no longer listed")
          const again = yield* due(to, t + 2)
          assert.deepStrictEqual([ids(again), again[0]?.attempts], [[r0], 1], "claimable at once, as its first attempt")
          yield* outbox.markSent(again[0]!, "wamid.revived", t + 2)
        }))

      it.effect("sessionOfSent maps a sent reply's provider id to the session it was sent in", () =>
        Effect.gen(function*() {
          const outbox = yield* Outbox
          const session = yield* options.newSession
          const to = recipient()
          const t = 5_000_000
          const [withSession] = yield* record(to, 1, t, session)
          const [without] = yield* record(to, 1, t)
          const providerId = `wamid.sent.${crypto.randomUUID()}`
          assert.isUndefined(yield* outbox.sessionOfSent(providerId), "unknown before it is sent")
          const first = yield* due(to, t)
          assert.deepStrictEqual(ids(first), [withSession])
          yield* outbox.markSent(first[0]!, providerId, t)
          assert.strictEqual(yield* outbox.sessionOfSent(providerId), session)
          const otherId = `wamid.sent.${crypto.randomUUID()}`
          const second = yield* due(to, t)
          assert.deepStrictEqual(ids(second), [without])
          yield* outbox.markSent(second[0]!, otherId, t)
          assert.isUndefined(yield* outbox.sessionOfSent(otherId), "a reply to an unknown sender has no session")
        }))

      const senderOptions: SenderOptions = { ...defaultSenderOptions, maxAttempts: 3, backoffMillis: (attempt) => 10_000 * attempt }

      it.effect("deliver: a retryable failure is rescheduled with backoff and sent later, in order", () =>
        Effect.gen(function*() {
          const messenger = yield* RecordingMessenger
          const to = recipient()
          const t = yield* Clock.currentTimeMillis
          const [r0, r1] = yield* record(to, 2, t)
          yield* messenger.failNext(1, sendFailure("transient", true))
          yield* deliver((yield* due(to, t))[0]!, senderOptions)
          assert.deepStrictEqual([yield* outboxCount("retried"), yield* outboxCount("sent")], [1, 0])
          yield* TestClock.adjust(Duration.millis(9_999))
          assert.deepStrictEqual(ids(yield* due(to, t + 9_999)), [], "backing off 10 s after attempt 1, r1 behind it")
          yield* TestClock.adjust(Duration.millis(1))
          const retry = yield* due(to, t + 10_000)
          assert.deepStrictEqual([ids(retry), retry[0]!.attempts], [[r0], 2])
          yield* deliver(retry[0]!, senderOptions)
          yield* deliver((yield* due(to, t + 10_000))[0]!, senderOptions)
          assert.deepStrictEqual((yield* messenger.sent).map((s) => s.replyId), [r0, r1])
          assert.deepStrictEqual([yield* outboxCount("retried"), yield* outboxCount("sent"), yield* outboxCount("dead")], [1, 2, 0])
        }).pipe(Effect.provide(RecordingMessengerLayer), Effect.provideService(Metric.MetricRegistry, new Map())))

      it.effect("deliver: a non-retryable failure is parked as dead at once", () =>
        Effect.gen(function*() {
          const messenger = yield* RecordingMessenger
          const to = recipient()
          const t = yield* Clock.currentTimeMillis
          const [r0, r1] = yield* record(to, 2, t)
          yield* messenger.failNext(1, sendFailure("invalid_recipient", false))
          yield* deliver((yield* due(to, t))[0]!, senderOptions)
          assert.strictEqual(yield* outboxCount("dead"), 1)
          const next = yield* due(to, t)
          assert.deepStrictEqual(ids(next), [r1], "the dead reply no longer holds its recipient back")
          yield* deliver(next[0]!, senderOptions)
          assert.deepStrictEqual(ids(yield* due(to, t + 100 * lease)), [], "and is never tried again")
          assert.deepStrictEqual((yield* messenger.sent).map((s) => s.replyId), [r1])
          assert.notInclude((yield* messenger.sent).map((s) => s.replyId), r0)
          assert.deepStrictEqual([yield* outboxCount("retried"), yield* outboxCount("sent"), yield* outboxCount("dead")], [0, 1, 1])
        }).pipe(Effect.provide(RecordingMessengerLayer), Effect.provideService(Metric.MetricRegistry, new Map())))

      it.effect("deliver: a retryable failure at maxAttempts is parked as dead", () =>
        Effect.gen(function*() {
          const messenger = yield* RecordingMessenger
          const to = recipient()
          const t = yield* Clock.currentTimeMillis
          const [r0] = yield* record(to, 1, t)
          yield* messenger.failNext(3, sendFailure("rate_limited", true))
          let now = t
          for (const attempt of [1, 2, 3]) {
            const entry = (yield* due(to, now))[0]!
            assert.deepStrictEqual([entry.replyId, entry.attempts], [r0, attempt])
            yield* deliver(entry, senderOptions)
            yield* TestClock.adjust(Duration.millis(10_000 * attempt))
            now += 10_000 * attempt
          }
          assert.deepStrictEqual(ids(yield* due(to, now + 100 * lease)), [], "dead after 3 attempts")
          assert.deepStrictEqual([yield* outboxCount("retried"), yield* outboxCount("dead"), yield* outboxCount("sent")], [2, 1, 0])
          assert.deepStrictEqual(yield* messenger.sent, [])
        }).pipe(Effect.provide(RecordingMessengerLayer), Effect.provideService(Metric.MetricRegistry, new Map())))

      it.effect("runOutboxSender: sends as replies are recorded, backs off a retryable failure, then sends in order", () =>
        Effect.gen(function*() {
          const messenger = yield* RecordingMessenger
          const to = recipient()
          const sentTo = Effect.map(messenger.sent, (sent) => sent.filter((s) => s.to === to).map((s) => s.replyId))
          const sender = yield* Effect.forkChild(runOutboxSender({ ...senderOptions, idlePollMillis: 100 }))
          yield* messenger.failNext(1, sendFailure("rate_limited", true))
          const [r0, r1] = yield* record(to, 2, yield* Clock.currentTimeMillis)
          yield* eventually(Effect.map(outboxCount("retried"), (n) => n === 1), "the first send fails and is rescheduled", Duration.millis(100))
          assert.deepStrictEqual(yield* sentTo, [], "nothing sent while the first reply backs off")
          yield* TestClock.adjust(Duration.millis(10_000))
          // Counted once marked sent, after the messenger took it: the count is the later of the two.
          yield* eventually(Effect.map(outboxCount("sent"), (n) => n === 2), "both replies sent after the backoff", Duration.millis(100))
          assert.deepStrictEqual(yield* sentTo, [r0, r1])
          assert.deepStrictEqual([yield* outboxCount("retried"), yield* outboxCount("sent"), yield* outboxCount("dead")], [1, 2, 0])
          yield* Fiber.interrupt(sender)
        }).pipe(Effect.provide(RecordingMessengerLayer), Effect.provideService(Metric.MetricRegistry, new Map())))

      it.effect(`property: random recordings, deliveries and retries send each reply once, in order (${numRuns} runs)`, () =>
        Effect.gen(function*() {
          const context = yield* Effect.context<Inbox | Outbox>()
          const details = yield* checkProperty(outboxScheduleArbitrary, (schedule) => Effect.runPromiseWith(context)(runOutboxSchedule(schedule)), { numRuns, seed })
          // The report names the seed and the shrunk schedule, so a failure can be replayed.
          assert.isFalse(details.failed, failureReport(details))
          assert.strictEqual(details.numRuns, numRuns)
        }))
    })
  })
}

/**
 * A random schedule against an `Outbox`: turns recording replies for a few
 * recipients, and delivery rounds that send or reschedule what they claimed.
 */
export type OutboxStep =
  | { readonly _tag: "Record"; readonly recipient: number; readonly count: number }
  | { readonly _tag: "Deliver"; readonly outcomes: ReadonlyArray<"sent" | "retry"> }

export interface OutboxSchedule {
  readonly recipients: number
  readonly steps: ReadonlyArray<OutboxStep>
}

export const outboxScheduleArbitrary: fc.Arbitrary<OutboxSchedule> = fc.integer({ min: 1, max: 3 }).chain((recipients) => {
  const recordStep = fc.record({ recipient: fc.integer({ min: 0, max: recipients - 1 }), count: fc.integer({ min: 1, max: 3 }) })
    .map((r): OutboxStep => ({ _tag: "Record", ...r }))
  const deliverStep = fc.array(fc.constantFrom("sent" as const, "sent" as const, "retry" as const), { minLength: 1, maxLength: 4 })
    .map((outcomes): OutboxStep => ({ _tag: "Deliver", outcomes }))
  return fc.record({ recipients: fc.constant(recipients), steps: fc.array(fc.oneof(recordStep, deliverStep), { minLength: 1, maxLength: 10 }) })
})

// Each run's time is later than every earlier run's (and their leases), on a store the runs share.
let outboxClock = 10 * Date.now()

/**
 * Runs one schedule and returns the violated invariants:
 * [in flight] one claim never holds two replies of a recipient;
 * [order] a recipient's replies are claimed oldest first, a rescheduled one
 * holding back those after it; [once] after a final drain every reply was
 * sent exactly once, in the order it was recorded.
 */
export const runOutboxSchedule = (schedule: OutboxSchedule) =>
  Effect.gen(function*() {
    const outbox = yield* Outbox
    const to = Array.from({ length: schedule.recipients }, recipient)
    const recorded = new Map<string, Array<string>>(to.map((r) => [r, []]))
    const sent = new Map<string, Array<string>>(to.map((r) => [r, []]))
    const violations: Array<string> = []
    let now = (outboxClock += 100 * lease)
    const head = (r: string) => recorded.get(r)!.find((id) => !sent.get(r)!.includes(id))
    const markSent = (entry: OutboxEntry) =>
      Effect.map(outbox.markSent(entry, `wamid.${entry.replyId}`, now), ({ outcome }) => {
        if (outcome === "sent") sent.get(entry.to)!.push(entry.replyId)
      })

    for (const [index, step] of schedule.steps.entries()) {
      now += 1
      if (step._tag === "Record") {
        const r = to[step.recipient]!
        recorded.get(r)!.push(...(yield* record(r, step.count, now)))
      } else {
        const mine = (yield* outbox.claimDue(now, 1_000, lease)).filter((e) => recorded.has(e.to))
        const recipients = mine.map((e) => e.to)
        for (const r of new Set(recipients)) {
          const n = recipients.filter((x) => x === r).length
          if (n > 1) violations.push(`[in flight] step ${index}: ${n} replies of recipient ${to.indexOf(r as PhoneNumber)} claimed at once`)
        }
        for (const e of mine) {
          if (e.replyId !== head(e.to)) violations.push(`[order] step ${index}: ${e.replyId} claimed before ${head(e.to)}`)
        }
        yield* Effect.forEach(mine, (e, i) =>
          step.outcomes[i % step.outcomes.length] === "sent" ? markSent(e) : outbox.markFailed(e, "transient: contract", now + 1, now), { discard: true })
      }
      if (violations.length > 0) return violations
    }
    // Drain: deliver everything left, a round at a time.
    for (let round = 0; round < 50 && to.some((r) => head(r) !== undefined); round++) {
      now += 1
      const mine = (yield* outbox.claimDue(now, 1_000, lease)).filter((e) => recorded.has(e.to))
      yield* Effect.forEach(mine, markSent, { discard: true })
    }
    for (const r of to) {
      if (sent.get(r)!.join(",") !== recorded.get(r)!.join(",")) {
        violations.push(`[once] recipient ${to.indexOf(r)}: recorded ${JSON.stringify(recorded.get(r))}, sent ${JSON.stringify(sent.get(r))}`)
      }
    }
    return violations
  })
