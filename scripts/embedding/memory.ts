// memory.js, typed: what an embedder's strict `tsc` must accept from the published declarations.
import { acceptInbound, Assistant, InboundMessage, MessageStore, Messenger, OutboxSenderLayer, PhoneNumber, SessionStore, User, UserId, WorkersLayer, type Reply } from "@parley/core"
import { InMemoryDirectory, InMemoryEngine } from "@parley/core/memory"
import { Effect, Layer, Schema } from "effect"

const Counter = Assistant.layer({
  state: Schema.Struct({ seen: Schema.optionalKey(Schema.Number) }),
  respond: ({ recent, inbound }) => {
    const seen = (recent.find((m) => m.direction === "inbound")?.metadata.seen ?? 0) + 1
    const text = inbound.content._tag === "Text" ? inbound.content.body : "(not text)"
    const reply: Reply = { _tag: "TextReply", body: `#${seen} ${text}` }
    return Effect.succeed({ state: { seen }, replies: [{ reply }] })
  }
})
const sent: Array<string> = []
const Recorder = Layer.succeed(Messenger, Messenger.of({
  send: (_to, reply, replyId) => Effect.sync(() => (sent.push(reply.body), { providerMessageId: `out-${replyId}` })),
  markAsRead: () => Effect.void
}))
const ada = new User({ id: UserId.make("user-ada"), phone: PhoneNumber.make("+15550000001"), displayName: "Ada" })
const message = (id: string, body: string) =>
  new InboundMessage({ provider: "simulator", providerMessageId: id, from: ada.phone, sentAt: Date.now(), content: { _tag: "Text", body } })

const Stores = Layer.mergeAll(InMemoryEngine, InMemoryDirectory([ada]), Counter, Recorder)
const Engine = WorkersLayer().pipe(Layer.provide(OutboxSenderLayer())).pipe(Layer.provideMerge(Stores))

const program = Effect.gen(function*() {
  yield* acceptInbound([message("m1", "hello"), message("m2", "again"), message("m1", "hello")])
  while (sent.length < 2) yield* Effect.sleep("10 millis")
  const sessions = yield* (yield* SessionStore).listByUser(ada.id)
  const stored = yield* (yield* MessageStore).recent(sessions[0]!.id, 10)
  return { sent, sessions: sessions.map((s) => s.status), stored: stored.map((m) => [m.direction, m.content, m.metadata.seen ?? null]) }
})

const checked: Effect.Effect<{ readonly sent: Array<string> }, unknown, never> = program.pipe(Effect.provide(Engine))
console.log(JSON.stringify(await Effect.runPromise(checked)))
