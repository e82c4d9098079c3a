import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import type { Assistant } from "../../assistant/Assistant.ts"
import type { MessageContent } from "../../channel/InboundMessage.ts"
import { PhoneNumber } from "../../channel/PhoneNumber.ts"
import type { Messenger } from "../../channel/Messenger.ts"
import { MessageStore } from "../../conversation/StoredMessage.ts"
import type { Directory } from "../../identity/Directory.ts"
import type { User } from "../../identity/User.ts"
import { InMemoryEngine } from "../../memory/InMemoryEngine.ts"
import { InMemoryMessaging } from "../../memory/InMemoryMessaging.ts"
import { SessionStore } from "../../session/SessionStore.ts"
import { RecordingMessenger, RecordingMessengerLayer } from "../doubles/RecordingMessenger.ts"
import { deliverThrough, inboundOf } from "../drivers/chat.ts"
import { drainInbox, drainOutbox } from "../drivers/drain.ts"
import { killedAfterThePipeline } from "../drivers/killedAfterThePipeline.ts"

export interface AssistantContractOptions<E> {
  /** The assistant with everything it needs, and a `Directory` that knows `user`. The engine's stores are added in memory. */
  readonly layer: Layer.Layer<Assistant | Directory, E>
  readonly user: User
  /** A few messages the assistant answers, sent in this order (text, taps, media as its users would). */
  readonly conversation: ReadonlyArray<MessageContent>
}

/**
 * What the engine expects of any `Assistant`, through inbox, workers and
 * outbox: it answers its conversation with valid replies, all stored in the
 * user's one session; a message whose `respond` ran but whose turn was not
 * committed (a worker killed) is answered once when processed again, its
 * turn stored once; and a stranger's message leaves nothing stored.
 */
export const assistantContract = <E>(name: string, options: AssistantContractOptions<E>): void => {
  const withEngine = () => Layer.mergeAll(options.layer, InMemoryEngine, RecordingMessengerLayer) as Layer.Layer<
    Assistant | Directory | Messenger | RecordingMessenger | SessionStore | MessageStore | InMemoryMessaging | Effect.Services<ReturnType<typeof drainInbox>>,
    E
  >
  const storedOf = (user: User) =>
    Effect.gen(function*() {
      const sessions = yield* (yield* SessionStore).listByUser(user.id)
      const store = yield* MessageStore
      const messages = (yield* Effect.forEach(sessions, (s) => store.recent(s.id, 1_000))).flat()
      return { sessions, messages }
    })

  describe(`Assistant contract: ${name}`, () => {
    layer(withEngine(), { timeout: Duration.seconds(60) })((it) => {
      it.effect("its conversation is answered, every message and reply in the user's one session", () =>
        Effect.gen(function*() {
          for (const content of options.conversation) yield* deliverThrough(inboundOf(options.user.phone, content))
          const { sessions, messages } = yield* storedOf(options.user)
          assert.strictEqual(sessions.filter((s) => s.isActive).length <= 1, true, "at most one active session")
          const inbound = messages.filter((m) => m.direction === "inbound")
          assert.strictEqual(inbound.length, options.conversation.length, "every message stored once")
          const sent = yield* (yield* RecordingMessenger).sent
          assert.strictEqual(sent.length, messages.length - inbound.length, "every stored reply sent once")
        }))
    })

    layer(withEngine(), { timeout: Duration.seconds(60) })((it) => {
      it.effect("respond run for a message whose turn was not committed: processed again, it is stored and answered once", () =>
        Effect.gen(function*() {
          const message = inboundOf(options.user.phone, options.conversation[0]!)
          yield* killedAfterThePipeline(message)
          assert.strictEqual(yield* drainInbox(), 1)
          yield* drainOutbox
          const { messages } = yield* storedOf(options.user)
          assert.strictEqual(messages.filter((m) => m.providerMessageId === message.providerMessageId).length, 1)
          const sent = yield* (yield* RecordingMessenger).sent
          const replies = messages.filter((m) => m.direction === "outbound").length
          assert.strictEqual(sent.length, replies)
          assert.strictEqual(new Set(sent.map((s) => s.replyId)).size, sent.length, "no reply sent twice")
        }))
    })

    layer(withEngine(), { timeout: Duration.seconds(60) })((it) => {
      it.effect("a stranger's message is completed with no session and nothing stored", () =>
        Effect.gen(function*() {
          yield* deliverThrough(inboundOf(PhoneNumber.make("+19999999999"), options.conversation[0]!))
          const { messages, inbox } = yield* (yield* InMemoryMessaging).inspect
          assert.lengthOf(messages, 0)
          assert.deepStrictEqual(inbox.map((e) => e.state), ["done"])
        }))
    })
  })
}
