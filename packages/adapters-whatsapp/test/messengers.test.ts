import { assert, describe, layer } from "@effect/vitest"
import { BusinessScopedUserId, Messenger, PhoneNumber, type Reply } from "@parley/core"
import { CloudApiMessenger, TwilioMessenger } from "@parley/adapters-whatsapp"
import { FakeGraphApiResource, FakeTwilioApiResource, graphError, twilioError } from "@parley/adapters-whatsapp/testing"
import { Context, Duration, Effect, Layer, Redacted } from "effect"

const to = PhoneNumber.make("+33612345678")
const token = "graph-token"

class Graph extends Context.Service<Graph, Effect.Success<typeof FakeGraphApiResource>>()("test/Graph") {}
const GraphLayer = Layer.effect(Graph, FakeGraphApiResource)
const CloudLayer = Layer.unwrap(Effect.map(Effect.service(Graph), (fake) =>
  CloudApiMessenger.layer({ graphUrl: fake.graphUrl, phoneNumberId: "106540352242922", accessToken: Redacted.make(token) })
)).pipe(Layer.provideMerge(GraphLayer))

const replies: ReadonlyArray<[string, Reply, unknown]> = [
  ["text", { _tag: "TextReply", body: "Bonjour" }, { messaging_product: "whatsapp", recipient_type: "individual", to: "33612345678", type: "text", text: { preview_url: false, body: "Bonjour" } }],
  ["reply buttons", {
    _tag: "ButtonsReply",
    body: "Que voulez-vous faire ?",
    buttons: [{ id: "menu_view_sites", title: "Voir mes chantiers" }, { id: "menu_talk", title: "Parler à quelqu'un" }]
  }, {
    messaging_product: "whatsapp", recipient_type: "individual", to: "33612345678", type: "interactive",
    interactive: { type: "button", body: { text: "Que voulez-vous faire ?" }, action: { buttons: [
      { type: "reply", reply: { id: "menu_view_sites", title: "Voir mes chantiers" } },
      { type: "reply", reply: { id: "menu_talk", title: "Parler à quelqu'un" } }
    ] } }
  }],
  ["list", {
    _tag: "ListReplyMessage",
    body: "Vos chantiers (2)",
    button: "Choisir",
    header: "Chantiers",
    sections: [{ title: "Voir mes chantiers", rows: [{ id: "option_1", title: "Champigny", description: "12 rue de Bernaü" }, { id: "option_2", title: "Montreuil" }] }]
  }, {
    messaging_product: "whatsapp", recipient_type: "individual", to: "33612345678", type: "interactive",
    interactive: { type: "list", header: { type: "text", text: "Chantiers" }, body: { text: "Vos chantiers (2)" }, action: { button: "Choisir", sections: [
      { title: "Voir mes chantiers", rows: [{ id: "option_1", title: "Champigny", description: "12 rue de Bernaü" }, { id: "option_2", title: "Montreuil" }] }
    ] } }
  }]
]

describe("Cloud API messenger against the fake Graph API over real HTTP", () => {
  layer(CloudLayer)((it) => {
    it.effect.each(replies)("sends %s as the exact Cloud API JSON", ([, reply, expected]) =>
      Effect.gen(function*() {
        const fake = yield* Graph
        const before = fake.sent().length
        const sent = yield* (yield* Messenger).send(to, reply, crypto.randomUUID())
        const received = fake.sent().slice(before)
        assert.strictEqual(received.length, 1)
        assert.deepStrictEqual(received[0]!.payload, expected)
        assert.strictEqual(received[0]!.authorization, `Bearer ${token}`)
        assert.strictEqual(received[0]!.phoneNumberId, "106540352242922")
        assert.strictEqual(sent.providerMessageId, received[0]!.wamid)
      }))

    it.effect("a reply to a business-scoped user id goes in `recipient`, without `to` (Meta's BSUID send rule)", () =>
      Effect.gen(function*() {
        const fake = yield* Graph
        const before = fake.sent().length
        const bsuid = BusinessScopedUserId.make("US.13491208655302741918")
        const sent = yield* (yield* Messenger).send(bsuid, { _tag: "TextReply", body: "Bonjour" }, crypto.randomUUID())
        const [received] = fake.sent().slice(before)
        assert.deepStrictEqual(received!.payload, {
          messaging_product: "whatsapp",
          recipient_type: "individual",
          recipient: "US.13491208655302741918",
          type: "text",
          text: { preview_url: false, body: "Bonjour" }
        })
        assert.strictEqual(sent.providerMessageId, received!.wamid)
      }))

    it.effect("a reply id already sent is not sent again", () =>
      Effect.gen(function*() {
        const fake = yield* Graph
        const messenger = yield* Messenger
        const before = fake.sent().length
        const a = yield* messenger.send(to, { _tag: "TextReply", body: "once" }, "reply-1")
        const b = yield* messenger.send(to, { _tag: "TextReply", body: "once" }, "reply-1")
        assert.strictEqual(fake.sent().length - before, 1)
        assert.deepStrictEqual(a, b)
      }))

    it.effect("a text over 4096 characters goes out as several messages", () =>
      Effect.gen(function*() {
        const fake = yield* Graph
        const before = fake.sent().length
        yield* (yield* Messenger).send(to, { _tag: "TextReply", body: ("mot ".repeat(1500)).trim() }, crypto.randomUUID())
        const bodies = fake.sent().slice(before).map((s) => (s.payload["text"] as { body: string }).body)
        assert.strictEqual(bodies.length, 2)
        assert.isTrue(bodies.every((b) => b.length <= 4096))
        assert.strictEqual(bodies.join(" "), ("mot ".repeat(1500)).trim())
      }))

    it.effect("a reply that breaks the limits is refused before any request", () =>
      Effect.gen(function*() {
        const fake = yield* Graph
        const before = fake.requests().length
        const error = yield* Effect.flip((yield* Messenger).send(to, {
          _tag: "ButtonsReply",
          body: "trop",
          buttons: [1, 2, 3, 4].map((i) => ({ id: `b${i}`, title: `B${i}` }))
        }, crypto.randomUUID()))
        assert.deepStrictEqual([error.reason, error.retryable], ["invalid_reply", false])
        assert.strictEqual(fake.requests().length, before)
      }))

    it.effect("button titles that collide once cut are sent with both ends kept, so the Cloud API sees unique titles", () =>
      Effect.gen(function*() {
        const fake = yield* Graph
        const before = fake.sent().length
        yield* (yield* Messenger).send(to, {
          _tag: "ButtonsReply",
          body: "Quel lot ?",
          buttons: [{ id: "lot_a", title: "Réseau électrique lot A" }, { id: "lot_b", title: "Réseau électrique lot B" }]
        }, crypto.randomUUID())
        const [sent] = fake.sent().slice(before)
        const buttons = (sent!.payload["interactive"] as { action: { buttons: ReadonlyArray<{ reply: { id: string; title: string } }> } }).action.buttons
        assert.deepStrictEqual(buttons.map((b) => [b.reply.id, b.reply.title]), [["lot_a", "Réseau éle…que lot A"], ["lot_b", "Réseau éle…que lot B"]])
      }))

    it.effect("a lone untitled list section is sent without a title; untitled sections among several are refused before any request", () =>
      Effect.gen(function*() {
        const fake = yield* Graph
        const messenger = yield* Messenger
        const list = (sections: ReadonlyArray<{ title: string; rows: ReadonlyArray<{ id: string; title: string }> }>): Reply => ({
          _tag: "ListReplyMessage",
          body: "Vos chantiers",
          button: "Choisir",
          sections
        })
        const before = fake.sent().length
        yield* messenger.send(to, list([{ title: "", rows: [{ id: "option_1", title: "Champigny" }] }]), crypto.randomUUID())
        const [sent] = fake.sent().slice(before)
        assert.deepStrictEqual((sent!.payload["interactive"] as { action: unknown }).action, { button: "Choisir", sections: [{ rows: [{ id: "option_1", title: "Champigny" }] }] })

        const requests = fake.requests().length
        const error = yield* Effect.flip(messenger.send(to, list([
          { title: "En cours", rows: [{ id: "option_1", title: "Champigny" }] },
          { title: "", rows: [{ id: "option_2", title: "Montreuil" }] }
        ]), crypto.randomUUID()))
        assert.deepStrictEqual([error.reason, error.retryable], ["invalid_reply", false])
        assert.match(error.message, /several sections needs a title/)
        assert.strictEqual(fake.requests().length, requests)
      }))

    it.effect("equal button titles are refused before any request", () =>
      Effect.gen(function*() {
        const fake = yield* Graph
        const requests = fake.requests().length
        const error = yield* Effect.flip((yield* Messenger).send(to, {
          _tag: "ButtonsReply",
          body: "Confirmer ?",
          buttons: [{ id: "yes", title: "Oui" }, { id: "yes_too", title: "oui" }]
        }, crypto.randomUUID()))
        assert.deepStrictEqual([error.reason, error.retryable], ["invalid_reply", false])
        assert.strictEqual(fake.requests().length, requests)
      }))

    it.effect.each([
      [graphError(429, 130429, "Rate limit hit"), "rate_limited", true],
      [graphError(400, 131047, "Re-engagement message"), "window_closed", false],
      [graphError(400, 131026, "Message undeliverable"), "invalid_recipient", false],
      [graphError(401, 190, "Invalid OAuth access token"), "unauthorized", false],
      [graphError(500, 131000, "Something went wrong"), "transient", true],
      [graphError(400, 100, "Invalid parameter"), "invalid_reply", false]
    ] as const)("maps Graph error %#: to %s", ([answer, reason, retryable]) =>
      Effect.gen(function*() {
        const fake = yield* Graph
        fake.failNext(answer)
        const error = yield* Effect.flip((yield* Messenger).send(to, { _tag: "TextReply", body: "x" }, crypto.randomUUID()))
        assert.deepStrictEqual([error.reason, error.retryable, error.providerCode], [reason, retryable, String((answer.body as { error: { code: number } }).error.code)])
      }))

    it.effect("mark as read", () =>
      Effect.gen(function*() {
        const fake = yield* Graph
        yield* (yield* Messenger).markAsRead("wamid.in1")
        const last = fake.requests().at(-1)!
        assert.deepStrictEqual(JSON.parse(last.body), { messaging_product: "whatsapp", status: "read", message_id: "wamid.in1" })
      }))
  })
})

class Twilio extends Context.Service<Twilio, Effect.Success<typeof FakeTwilioApiResource>>()("test/Twilio") {}
const TwilioFakeLayer = Layer.effect(Twilio, FakeTwilioApiResource)
const TwilioLayer = Layer.unwrap(Effect.map(Effect.service(Twilio), (fake) =>
  TwilioMessenger.layer({ apiUrl: fake.url, accountSid: "ACtest", authToken: Redacted.make("tw-token"), from: PhoneNumber.make("+14155238886") })
)).pipe(Layer.provideMerge(TwilioFakeLayer))

describe("Twilio messenger against the fake Twilio API over real HTTP", () => {
  layer(TwilioLayer)((it) => {
    it.effect("sends text and degrades a list to numbered options", () =>
      Effect.gen(function*() {
        const fake = yield* Twilio
        const messenger = yield* Messenger
        const sent = yield* messenger.send(to, replies[2]![1], "r1")
        assert.match(sent.providerMessageId, /^SMfake/)
        const request = fake.requests().at(-1)!
        assert.strictEqual(request.path, "/2010-04-01/Accounts/ACtest/Messages.json")
        assert.strictEqual(request.headers.authorization, `Basic ${Buffer.from("ACtest:tw-token").toString("base64")}`)
        const form = new URLSearchParams(request.body)
        assert.deepStrictEqual([form.get("From"), form.get("To")], ["whatsapp:+14155238886", "whatsapp:+33612345678"])
        assert.strictEqual(form.get("Body"), "Chantiers\nVos chantiers (2)\n\n1. Champigny — 12 rue de Bernaü\n2. Montreuil")
      }))

    it.effect("a business-scoped user id cannot be reached through Twilio: refused for good, before any request", () =>
      Effect.gen(function*() {
        const fake = yield* Twilio
        const before = fake.requests().length
        const error = yield* Effect.flip((yield* Messenger).send(BusinessScopedUserId.make("US.13491208655302741918"), { _tag: "TextReply", body: "x" }, "r-bsuid"))
        assert.deepStrictEqual([error.reason, error.retryable], ["invalid_recipient", false])
        assert.strictEqual(fake.requests().length, before)
      }))

    it.effect("a text over 1600 characters goes out as several Bodies of at most 1600 (Twilio's limit, not the Cloud API's 4096)", () =>
      Effect.gen(function*() {
        const fake = yield* Twilio
        const before = fake.requests().length
        const body = "mot ".repeat(750).trim()
        yield* (yield* Messenger).send(to, { _tag: "TextReply", body }, "r-long")
        const bodies = fake.requests().slice(before).map((r) => new URLSearchParams(r.body).get("Body")!)
        assert.deepStrictEqual(bodies.map((b) => [...b].length), [1599, 1399])
        assert.strictEqual(bodies.join(" "), body)
      }))

    it.effect("a long list degrades to one Body of at most 1600 characters, every option whole", () =>
      Effect.gen(function*() {
        const fake = yield* Twilio
        const before = fake.requests().length
        const rows = Array.from({ length: 10 }, (_, i) => ({ id: `site_${i}`, title: `Chantier numéro ${i + 1}`, description: "d".repeat(72) }))
        yield* (yield* Messenger).send(to, {
          _tag: "ListReplyMessage",
          header: "Chantiers",
          body: "Vos chantiers : ".repeat(80),
          button: "Choisir",
          footer: "Répondez par un numéro",
          sections: [{ title: "En cours", rows }]
        }, "r-list")
        const requests = fake.requests().slice(before)
        assert.strictEqual(requests.length, 1)
        const body = new URLSearchParams(requests[0]!.body).get("Body")!
        assert.isAtMost([...body].length, 1600)
        assert.isAbove([...body].length, 1500, "the body gets the room the options leave")
        rows.forEach((r, i) => assert.include(body, `${i + 1}. ${r.title} — ${r.description}`))
        assert.isTrue(body.endsWith("\nRépondez par un numéro"))
      }))

    it.effect.each([
      [twilioError(429, 20429, "Too Many Requests"), "rate_limited", true],
      [twilioError(400, 63016, "Outside the allowed window"), "window_closed", false],
      [twilioError(400, 21211, "Invalid 'To' Phone Number"), "invalid_recipient", false],
      [twilioError(503, 20503, "Service unavailable"), "transient", true]
    ] as const)("maps Twilio error %#: to %s", ([answer, reason, retryable]) =>
      Effect.gen(function*() {
        const fake = yield* Twilio
        fake.failNext(answer)
        const error = yield* Effect.flip((yield* Messenger).send(to, { _tag: "TextReply", body: "x" }, "r2"))
        assert.deepStrictEqual([error.reason, error.retryable], [reason, retryable])
      }))
  })
})

/** A provider that takes the request and never answers (a hung Graph API or Twilio). */
const silentProvider = Effect.acquireRelease(
  Effect.promise(async () => {
    const { createServer } = await import("node:http")
    const server = createServer(() => {})
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const { port } = server.address() as { port: number }
    return { url: `http://127.0.0.1:${port}`, server }
  }),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
)

describe("a provider that never answers", () => {
  layer(Layer.empty, { excludeTestServices: true })((it) => {
    it.effect("the Cloud API messenger gives up after its request timeout with a retryable timeout", () =>
      Effect.gen(function*() {
        const silent = yield* silentProvider
        const messenger = yield* Effect.service(Messenger).pipe(Effect.provide(CloudApiMessenger.layer({
          graphUrl: silent.url, phoneNumberId: "1", accessToken: Redacted.make(token), requestTimeout: Duration.millis(200)
        })))
        const failure = yield* Effect.flip(messenger.send(to, { _tag: "TextReply", body: "hello" }, "meta:wamid.silent:0"))
        assert.deepStrictEqual([failure.reason, failure.retryable], ["timeout", true])
      }).pipe(Effect.scoped))

    it.effect("the Twilio messenger too", () =>
      Effect.gen(function*() {
        const silent = yield* silentProvider
        const messenger = yield* Effect.service(Messenger).pipe(Effect.provide(TwilioMessenger.layer({
          apiUrl: silent.url, accountSid: "AC123", authToken: Redacted.make("t"), from: PhoneNumber.make("+14155238886"), requestTimeout: Duration.millis(200)
        })))
        const failure = yield* Effect.flip(messenger.send(to, { _tag: "TextReply", body: "hello" }, "twilio:SM.silent:0"))
        assert.deepStrictEqual([failure.reason, failure.retryable], ["timeout", true])
      }).pipe(Effect.scoped))
  })
})
