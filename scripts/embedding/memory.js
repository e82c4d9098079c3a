// A service embedding the parley engine with its own assistant, every store in memory.
import { acceptInbound, Assistant, InboundMessage, MessageStore, Messenger, OutboxSenderLayer, PhoneNumber, SessionStore, User, UserId, WorkersLayer } from "@parley/core"
import { InMemoryDirectory, InMemoryEngine } from "@parley/core/memory"
import { Effect, Layer, Schema } from "effect"

// Your assistant: numbers the user's messages within the session, remembering the count with each one.
const Counter = Assistant.layer({
  state: Schema.Struct({ seen: Schema.optionalKey(Schema.Number) }),
  respond: ({ recent, inbound }) => {
    const seen = (recent.find((m) => m.direction === "inbound")?.metadata.seen ?? 0) + 1
    const text = inbound.content._tag === "Text" ? inbound.content.body : "(not text)"
    return Effect.succeed({ state: { seen }, replies: [{ reply: { _tag: "TextReply", body: `#${seen} ${text}` } }] })
  }
})
// Your channel: WhatsApp in production (@parley/adapters-whatsapp); here the replies are kept.
const sent = []
const Recorder = Layer.succeed(Messenger, Messenger.of({
  send: (to, reply, replyId) => Effect.sync(() => (sent.push(reply.body), { providerMessageId: `out-${replyId}` })),
  markAsRead: () => Effect.void
}))
const ada = new User({ id: UserId.make("user-ada"), phone: PhoneNumber.make("+15550000001"), displayName: "Ada" })
const message = (id, body) =>
  new InboundMessage({ provider: "simulator", providerMessageId: id, from: ada.phone, sentAt: Date.now(), content: { _tag: "Text", body } })

const Stores = Layer.mergeAll(InMemoryEngine, InMemoryDirectory([ada]), Counter, Recorder)
const Engine = WorkersLayer().pipe(Layer.provide(OutboxSenderLayer())).pipe(Layer.provideMerge(Stores))

const program = Effect.gen(function*() {
  // A webhook delivers two messages, then the first one again: it is processed once.
  yield* acceptInbound([message("m1", "hello"), message("m2", "again"), message("m1", "hello")])
  while (sent.length < 2) yield* Effect.sleep("10 millis")
  const sessions = yield* (yield* SessionStore).listByUser(ada.id)
  const stored = yield* (yield* MessageStore).recent(sessions[0].id, 10)
  return { sent, sessions: sessions.map((s) => s.status), stored: stored.map((m) => [m.direction, m.content, m.metadata.seen ?? null]) }
})

console.log(JSON.stringify(await Effect.runPromise(program.pipe(Effect.provide(Engine)))))
