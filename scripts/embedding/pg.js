// The same engine on Postgres: migrate, register a user, process a message, read the session back.
import { PgClient } from "@effect/sql-pg"
import { makeMigrator, PgEngine, registerUser } from "@parley/adapters-pg"
import { acceptInbound, Assistant, InboundMessage, MessageStore, Messenger, OutboxSenderLayer, PhoneNumber, SessionStore, WorkersLayer } from "@parley/core"
import { Effect, Layer, Redacted, Schema } from "effect"

const Echo = Assistant.layer({
  state: Schema.Struct({}),
  respond: ({ inbound, user }) => Effect.succeed({ replies: [{ reply: { _tag: "TextReply", body: `${user.displayName}: ${inbound.content.body}` } }] })
})
const sent = []
const Recorder = Layer.succeed(Messenger, Messenger.of({
  send: (to, reply, replyId) => Effect.sync(() => (sent.push(reply.body), { providerMessageId: `out-${replyId}` })),
  markAsRead: () => Effect.void
}))
const Database = PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL), maxConnections: 4 })
const phone = PhoneNumber.make(process.env.USER_PHONE ?? "+15550000002")

const migrate = Effect.gen(function*() {
  const applied = yield* (yield* makeMigrator()).up()
  return { applied, user: yield* registerUser({ phone, displayName: "Grace" }) }
})
const converse = (user) => Effect.gen(function*() {
  yield* acceptInbound([new InboundMessage({ provider: "simulator", providerMessageId: `pg-${Date.now()}`, from: phone, sentAt: Date.now(), content: { _tag: "Text", body: "hello" } })])
  while (sent.length < 1) yield* Effect.sleep("20 millis")
  const [session] = yield* (yield* SessionStore).listByUser(user.id)
  const stored = yield* (yield* MessageStore).recent(session.id, 10)
  return { sent, session: session.status, stored: stored.map((m) => [m.direction, m.content]) }
})

const { applied, user } = await Effect.runPromise(migrate.pipe(Effect.provide(Database)))
const Engine = WorkersLayer().pipe(Layer.provide(OutboxSenderLayer())).pipe(Layer.provideMerge(Layer.mergeAll(PgEngine, Echo, Recorder)), Layer.provide(Database))
console.log(JSON.stringify({ applied, ...(await Effect.runPromise(converse(user).pipe(Effect.provide(Engine)))) }))
