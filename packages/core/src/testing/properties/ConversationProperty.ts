import { Context, Duration, Effect, Fiber, Layer, References } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { acceptInbound } from "../../intake/acceptInbound.ts"
import { InboundMessage, type MessageContent } from "../../channel/InboundMessage.ts"
import type { User } from "../../identity/User.ts"
import type { Messenger } from "../../channel/Messenger.ts"
import type { Outbox } from "../../delivery/Outbox.ts"
import { processMessage } from "../../pipeline/processMessage.ts"
import { SessionStore } from "../../session/SessionStore.ts"
import { MessageStore, type StoredMessage } from "../../conversation/StoredMessage.ts"
import { defaultWorkerOptions, runWorkers, type Process, type WorkerOptions } from "../../intake/Workers.ts"
import { drainOutbox } from "../drivers/drain.ts"
import { defaultSenderOptions, makeOutboxSender } from "../../delivery/OutboxSender.ts"
import { ReplyHandoff } from "../../delivery/ReplyHandoff.ts"
import { RecordingMessenger, type SentReply } from "../doubles/RecordingMessenger.ts"

/**
 * What a user may send: free text, a tap on a button or list row, a photo. A
 * tap answers one of the replies the user was sent that shows the tapped
 * option — `pick` chooses which, the newest or an older one still on screen
 * (none: a tap from a chat the assistant never saw).
 */
export type Utterance =
  | { readonly _tag: "Text"; readonly body: string }
  | { readonly _tag: "Tap"; readonly kind: "button" | "row"; readonly id: string; readonly title: string; readonly pick: number }
  | { readonly _tag: "Photo"; readonly caption: boolean }

/**
 * What an assistant's conversations are made of, for the property: the
 * utterances its users may send, and any invariant of its own to check in
 * each stored session (e.g. "a tap on an option shown in this session is
 * understood"), returned as violation lines.
 */
export interface ConversationScript {
  readonly utterances: fc.Arbitrary<Utterance>
  readonly checkSession?: ((messages: ReadonlyArray<StoredMessage>, label: string) => ReadonlyArray<string>) | undefined
}

export interface Said {
  readonly user: number
  readonly utterance: Utterance
}

export type Step =
  | { readonly _tag: "Deliver"; readonly user: number; readonly utterance: Utterance }
  /**
   * One webhook carrying several messages, stored in `order` (a permutation):
   * the provider batches and reorders, so acceptance order differs from the
   * order the messages were sent in (their `sentAt`).
   */
  | { readonly _tag: "Batch"; readonly messages: ReadonlyArray<Said>; readonly order: ReadonlyArray<number> }
  /** The provider delivers an already delivered webhook again. */
  | { readonly _tag: "Redeliver"; readonly pick: number }
  | { readonly _tag: "Advance"; readonly millis: number }
  /** Every worker is interrupted mid-whatever and a fresh set starts. */
  | { readonly _tag: "Kill" }
  /** The assistant's next answer takes this long (past the idle timeout, sometimes). */
  | { readonly _tag: "Stall"; readonly millis: number }

const idle = Duration.toMillis(Duration.minutes(30))

const batch = (users: number, utterance: fc.Arbitrary<Utterance>): fc.Arbitrary<Step> =>
  fc.array(fc.record({ user: fc.integer({ min: 0, max: users - 1 }), utterance }), { minLength: 2, maxLength: 4 }).chain((messages) => {
    const positions = messages.map((_, i) => i)
    return fc.shuffledSubarray(positions, { minLength: positions.length, maxLength: positions.length })
      .map((order): Step => ({ _tag: "Batch", messages, order }))
  })

export const conversationArbitrary = (users: number, maxSteps: number, utterance: fc.Arbitrary<Utterance>): fc.Arbitrary<ReadonlyArray<Step>> =>
  fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fc.record({ user: fc.integer({ min: 0, max: users - 1 }), utterance }).map((d): Step => ({ _tag: "Deliver", ...d })) },
      { weight: 2, arbitrary: batch(users, utterance) },
      { weight: 2, arbitrary: fc.nat().map((pick): Step => ({ _tag: "Redeliver", pick })) },
      {
        weight: 3,
        arbitrary: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: idle - 2_000, max: idle + 60_000 }))
          .map((millis): Step => ({ _tag: "Advance", millis }))
      },
      { weight: 1, arbitrary: fc.constant<Step>({ _tag: "Kill" }) },
      {
        weight: 1,
        arbitrary: fc.oneof(fc.integer({ min: 1_000, max: 10_000 }), fc.integer({ min: idle + 1_000, max: idle + 120_000 }))
          .map((millis): Step => ({ _tag: "Stall", millis }))
      }
    ),
    { minLength: 1, maxLength: maxSteps }
  )

/** Makes the assistant's next answer hang for a while: an LLM call that stalls, a paused VM. Test assistants provide it. */
export class AssistantStall extends Context.Service<AssistantStall, {
  stallNext(millis: number): Effect.Effect<void>
}>()("@parley/core/testing/AssistantStall") {}

const contentOf = (u: Utterance): MessageContent => {
  switch (u._tag) {
    case "Text":
      return { _tag: "Text", body: u.body }
    case "Tap":
      return u.kind === "button" ? { _tag: "ButtonReply", id: u.id, title: u.title } : { _tag: "ListReply", id: u.id, title: u.title }
    case "Photo":
      return { _tag: "Media", kind: "image", ref: "media-1", ...(u.caption ? { caption: "fuite" } : {}) }
  }
}

/** The provider id of a reply sent to `to` that shows option `id`: the newest when `pick` is 0, older ones otherwise. */
const answered = (sent: ReadonlyArray<SentReply>, to: string, id: string, pick: number): string | undefined => {
  const showing = sent.filter((s) =>
    s.to === to && (
      s.reply._tag === "ButtonsReply"
        ? s.reply.buttons.some((b) => b.id === id)
        : s.reply._tag === "ListReplyMessage" && s.reply.sections.some((section) => section.rows.some((r) => r.id === id))
    )
  )
  return showing.length === 0 ? undefined : showing[Math.max(0, showing.length - 1 - pick)]!.providerMessageId
}

/**
 * Lets the workers run after a step: fibers yield, and for a store across the
 * network some real time passes too (virtual time stands still meanwhile).
 */
const settle = (liveMillis: number) =>
  Effect.andThen(
    Effect.repeat(Effect.yieldNow, { times: 50 }),
    liveMillis > 0 ? TestClock.withLive(Effect.sleep(Duration.millis(liveMillis))) : Effect.void
  )

export interface ConversationRunOptions {
  /** The users of this run: they must be known to the `Directory` in context. */
  readonly users: ReadonlyArray<User>
  readonly script: ConversationScript
  readonly process?: Process
  readonly workers?: WorkerOptions
  /** How many virtual minutes the final drain may take before giving up (stalls last up to ~32). */
  readonly maxDrainMinutes?: number
  /** Real milliseconds to let pass after each step: 0 in memory, a few for a database. */
  readonly settleMillis?: number
}

type Ports = SessionStore | MessageStore | RecordingMessenger | Messenger | AssistantStall | Outbox | Effect.Services<ReturnType<typeof runWorkers>>

/**
 * Delivers a random conversation through the inbox to concurrently running
 * workers that get killed and restarted, with clock jumps across the idle
 * timeout; then drains, and returns every invariant violation found.
 */
export const runConversation = Effect.fnUntraced(function*(steps: ReadonlyArray<Step>, options: ConversationRunOptions) {
  const sessions = yield* SessionStore
  const store = yield* MessageStore
  const messenger = yield* RecordingMessenger
  const workerOptions = options.workers ?? { ...defaultWorkerOptions, concurrency: 3 }
  // Each user's messages in the order their turns were first produced. A message is
  // claimed only once the one before it is committed, so this is processing order; it
  // does not depend on how a store orders sessions started at the same instant.
  const produced = new Map<string, Array<string>>()
  const pipeline = options.process ?? processMessage
  const violations: Array<string> = []
  // Each user's messages being processed right now, as live runs: a run is live
  // until it ends or the same message starts again (its lease was taken over
  // from a stalled worker: the old run is fenced out at commit). Two different
  // messages of one user live at once would break guarantee 3.
  const latestRun = new Map<string, number>()
  const liveRuns = new Map<string, Map<string, number>>()
  let runs = 0
  const enter = (inbound: InboundMessage) =>
    Effect.sync(() => {
      const run = ++runs
      latestRun.set(inbound.providerMessageId, run)
      const mine = liveRuns.get(inbound.from) ?? new Map<string, number>()
      mine.set(inbound.providerMessageId, run)
      liveRuns.set(inbound.from, mine)
      if (mine.size > 1) violations.push(`[one-at-a-time] ${[...mine.keys()].join(" and ")} of ${inbound.from} were in flight at once`)
      return run
    })
  const leave = (inbound: InboundMessage, run: number) =>
    Effect.sync(() => {
      const mine = liveRuns.get(inbound.from)
      if (mine?.get(inbound.providerMessageId) === run) mine.delete(inbound.providerMessageId)
    })
  const process = ((inbound: InboundMessage) =>
    Effect.tap(pipeline(inbound), () =>
      Effect.sync(() => {
        const order = produced.get(inbound.from) ?? []
        if (!order.includes(inbound.providerMessageId)) order.push(inbound.providerMessageId)
        produced.set(inbound.from, order)
      })).pipe((processing) => Effect.flatMap(enter(inbound), (run) => Effect.ensuring(processing, leave(inbound, run))))) as Process
  // In acceptance (arrival) order: the order the inbox promises to process each
  // user's messages in. A provider's `sentAt` may disagree (batched, reordered
  // webhooks) and is deliberately not what the order invariant checks.
  const delivered: Array<InboundMessage> = []
  // Ids unique across runs: a store shared by runs deduplicates on them.
  const runId = crypto.randomUUID().slice(0, 8)
  let nextId = 0

  // The outbox sender runs alongside, as in the server, so taps answer replies already sent;
  // the workers hand it the replies they commit, as the server's do. `Kill` spares it: an
  // interrupted send is redelivered by design (at least once, deduplicated by the messenger
  // on the reply id), and the recording messenger counts every send, which the exactly-once
  // check below reads.
  const outboxSender = yield* makeOutboxSender()
  const sender = yield* Effect.forkChild(outboxSender.run)
  const startWorkers = Effect.forkChild(runWorkers(workerOptions, process).pipe(Effect.provideService(ReplyHandoff, outboxSender.handoff)))
  let workers = yield* startWorkers

  const messageOf = (said: Said, sentAt: number) =>
    Effect.gen(function*() {
      const from = options.users[said.user]!.phone
      const content = contentOf(said.utterance)
      const replyTo = "pick" in said.utterance && (content._tag === "ButtonReply" || content._tag === "ListReply")
        ? answered(yield* messenger.sent, from, content.id, said.utterance.pick)
        : undefined
      return new InboundMessage({
        provider: "meta",
        providerMessageId: `wamid.${runId}.${nextId++}`,
        from,
        sentAt,
        content,
        ...(replyTo === undefined ? {} : { replyTo })
      })
    })

  const checkOneActive = (when: string) =>
    Effect.forEach(options.users, (user, u) =>
      Effect.map(sessions.listByUser(user.id), (all) => {
        const active = all.filter((s) => s.isActive).length
        if (active > 1) violations.push(`[sessions] user ${u} has ${active} active sessions ${when}`)
      }), { discard: true })

  for (const [index, step] of steps.entries()) {
    switch (step._tag) {
      case "Deliver": {
        const message = yield* messageOf(step, index * 10)
        delivered.push(message)
        yield* acceptInbound([message])
        break
      }
      case "Batch": {
        // Sent in the order generated (`sentAt` increasing), stored in `order`.
        const sent = yield* Effect.forEach(step.messages, (said, i) => messageOf(said, index * 10 + i))
        const accepted = step.order.map((i) => sent[i]!)
        delivered.push(...accepted)
        yield* acceptInbound(accepted)
        break
      }
      case "Redeliver": {
        if (delivered.length > 0) yield* acceptInbound([delivered[step.pick % delivered.length]!])
        break
      }
      case "Advance":
        yield* TestClock.adjust(Duration.millis(step.millis))
        break
      case "Kill":
        yield* Fiber.interrupt(workers)
        workers = yield* startWorkers
        break
      case "Stall":
        yield* (yield* AssistantStall).stallNext(step.millis)
        break
    }
    yield* settle(options.settleMillis ?? 0)
    yield* checkOneActive(`after step ${index} (${step._tag})`)
  }

  // Let the workers finish: move time on so sleeping stages, stalls and backoffs complete.
  const conversationOf = (user: User) =>
    Effect.gen(function*() {
      const all = yield* sessions.listByUser(user.id)
      const perSession = yield* Effect.forEach([...all].reverse(), (s) =>
        Effect.map(store.recent(s.id, 10_000), (ms) => ({ session: s.id, messages: [...ms].reverse() })))
      return perSession
    })
  const knownSenders = new Set<string>(options.users.map((u) => u.phone))
  const expected = delivered.filter((m) => knownSenders.has(m.from)).length
  // Done when every message is committed and every reply its turn recorded has gone out:
  // the sender is stopped only then, never between claiming a reply and sending it.
  const settled = Effect.gen(function*() {
    const stored = (yield* Effect.forEach(options.users, conversationOf)).flat().flatMap((s) => s.messages)
    const replies = stored.filter((m) => m.direction === "outbound").length
    const sentIds = new Set((yield* messenger.sent).filter((s) => knownSenders.has(s.to)).map((s) => s.replyId))
    return stored.length - replies >= expected && sentIds.size >= replies
  })
  for (let minute = 0; minute < (options.maxDrainMinutes ?? 180) && !(yield* settled); minute++) {
    yield* TestClock.adjust(Duration.minutes(1))
    yield* settle(options.settleMillis ?? 0)
  }
  yield* Fiber.interrupt(workers)
  yield* Fiber.interrupt(sender)
  // Anything still leased to the stopped sender (there should be nothing) goes out now.
  yield* TestClock.adjust(Duration.millis(defaultSenderOptions.leaseMillis + 1))
  yield* drainOutbox
  yield* checkOneActive("at the end")

  const sent = yield* messenger.sent
  const timesSent = new Map<string, number>()
  for (const s of sent) timesSent.set(s.replyId, (timesSent.get(s.replyId) ?? 0) + 1)
  for (const [replyId, times] of timesSent) if (times > 1) violations.push(`[exactly-once] reply ${replyId} was sent ${times} times`)

  for (const [u, user] of options.users.entries()) {
    const conversation = yield* conversationOf(user)
    const mine = delivered.filter((m) => m.from === user.phone)
    const inbound = conversation.flatMap((s) => s.messages).filter((m) => m.direction === "inbound")
    // Exactly once: each delivered message is stored once, and each reply its committed turn
    // recorded (its outbound messages, written in the same commit as its outbox entries) is
    // sent once, in order, with what was recorded — none lost, none doubled, none extra.
    for (const m of mine) {
      const stored = inbound.filter((i) => i.providerMessageId === m.providerMessageId).length
      if (stored !== 1) violations.push(`[exactly-once] user ${u}'s ${m.providerMessageId} was stored ${stored} times`)
      const recorded = turnReplies(conversation, m.providerMessageId)
      const itsSends = sent.filter((s) => s.replyId.startsWith(`meta:${m.providerMessageId}:`))
      if (recorded.length === 0) violations.push(`[exactly-once] user ${u}'s ${m.providerMessageId} recorded no reply`)
      if (itsSends.length !== recorded.length) {
        violations.push(`[exactly-once] user ${u}'s ${m.providerMessageId}: its turn recorded ${recorded.length} replies, ${itsSends.length} were sent`)
      }
      recorded.forEach((reply, i) => {
        const out = itsSends.find((s) => s.replyId === `meta:${m.providerMessageId}:${i}`)
        if (out !== undefined && out.reply.body !== reply.content) {
          violations.push(`[exactly-once] user ${u}'s ${m.providerMessageId}: reply ${i} sent "${out.reply.body}", recorded "${reply.content}"`)
        }
      })
    }
    // In order: the user's messages were processed in arrival (acceptance) order, whatever their `sentAt`.
    const processedOrder = produced.get(user.phone) ?? []
    const arrivalOrder = mine.map((m) => m.providerMessageId)
    if (processedOrder.join() !== arrivalOrder.join()) {
      violations.push(`[order] user ${u} processed ${processedOrder.join(" ")} but they arrived ${arrivalOrder.join(" ")}`)
    }
    for (const { session, messages } of conversation) {
      // One session per request: each session is (inbound, its replies)*, so no turn was split across sessions.
      messages.forEach((m, i) => {
        const next = messages[i + 1]
        if (i === 0 && m.direction !== "inbound") violations.push(`[one-session] session ${session} of user ${u} starts with a reply: its inbound is elsewhere`)
        if (m.direction === "inbound" && next?.direction !== "outbound") violations.push(`[one-session] ${m.providerMessageId} of user ${u} has no reply in its session ${session}`)
      })
      violations.push(...(options.script.checkSession?.(messages, `user ${u}'s session ${session}`) ?? []))
    }
  }
  return violations
})

/** The outbound messages a turn recorded: those after its inbound in its session, up to the next inbound. */
const turnReplies = (
  conversation: ReadonlyArray<{ readonly messages: ReadonlyArray<StoredMessage> }>,
  providerMessageId: string
): ReadonlyArray<StoredMessage> => {
  for (const { messages } of conversation) {
    const at = messages.findIndex((m) => m.direction === "inbound" && m.providerMessageId === providerMessageId)
    if (at === -1) continue
    const next = messages.findIndex((m, i) => i > at && m.direction === "inbound")
    return messages.slice(at + 1, next === -1 ? undefined : next)
  }
  return []
}

export interface ConversationCheckOptions<R> {
  readonly numRuns: number
  readonly maxSteps?: number
  readonly seed?: number | undefined
  /** A fresh set of ports for each run, and the run's users. */
  readonly layer: () => Layer.Layer<Ports | R, unknown>
  readonly users: Effect.Effect<ReadonlyArray<User>, unknown, Ports | R>
  readonly script: ConversationScript
  readonly process?: Process
  readonly settleMillis?: number
}

/** fast-check over random conversations; resolves the run report (assert on `failed`). */
export const checkConversations = <R = never>(options: ConversationCheckOptions<R>) =>
  Effect.promise(() =>
    fc.check(
      fc.asyncProperty(conversationArbitrary(3, options.maxSteps ?? 24, options.script.utterances), async (steps) => {
        const violations = await Effect.runPromise(
          Effect.gen(function*() {
            const users = yield* options.users
            return yield* runConversation(steps, {
              users,
              script: options.script,
              settleMillis: options.settleMillis ?? 0,
              ...(options.process ? { process: options.process } : {})
            })
          }).pipe(
            Effect.scoped,
            Effect.provide(options.layer()),
            Effect.provide(TestClock.layer()),
            // Thousands of runs' worth of pipeline logs would bury the one report that matters.
            Effect.provideService(References.MinimumLogLevel, "None")
          )
        )
        if (violations.length > 0) throw new Error(violations.slice(0, 8).join("\n"))
      }),
      { numRuns: options.numRuns, ...(options.seed === undefined ? {} : { seed: options.seed }) }
    )
  )
