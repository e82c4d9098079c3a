import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric } from "effect"
import { TestClock } from "effect/testing"
import {
  acceptInbound,
  contextMessages,
  type MessageContent,
  PhoneNumber,
  type Reply,
  sessionResolutions,
  SessionStore
} from "@parley/core"
import { InMemoryMessaging } from "@parley/core/memory"
import { chatAs, drainInbox, drainOutbox, inboundOf, RecordingMessenger, RecordingMessengerLayer } from "@parley/core/testing"
import { demoSubcontractors, directActions, InMemoryAssistant } from "@parley/worksite"

const karim = demoSubcontractors[0]!
const TestLayer = Layer.mergeAll(InMemoryAssistant(), RecordingMessengerLayer)

/** One message through the inbox, the workers and the outbox; a tap names the reply it answers (`on`), as WhatsApp's `context.id` does. */
const say = (content: MessageContent, options: { readonly from?: string; readonly on?: Reply | undefined } = {}) =>
  chatAs(PhoneNumber.make(options.from ?? karim.phone)).send(content, options.on)

const rows = (reply: Reply | undefined) =>
  reply?._tag === "ListReplyMessage" ? reply.sections.flatMap((s) => s.rows) : []

describe("the seed's manual test, in memory", () => {
  it.effect("Bonjour → menu, View Sites → Champigny, tap Champigny → its tasks, all in one session", () =>
    Effect.gen(function*() {
      const transcript: Array<string> = []
      const log = (input: string, replies: ReadonlyArray<Reply>) =>
        transcript.push(`> ${input}`, ...replies.map((r) => `< ${r._tag}: ${r.body.replace(/\n/g, " / ")}${
          r._tag === "ButtonsReply" ? ` [${r.buttons.map((b) => b.title).join(" | ")}]` : ""
        }${r._tag === "ListReplyMessage" ? ` {${rows(r).map((row) => `${row.id}=${row.title}`).join(", ")}}` : ""}`))

      const menu = yield* say({ _tag: "Text", body: "Bonjour" })
      log("Bonjour", menu)
      assert.strictEqual(menu.length, 1)
      assert.strictEqual(menu[0]?._tag, "ButtonsReply")
      const viewSites = menu[0]?._tag === "ButtonsReply" ? menu[0].buttons[0]! : undefined
      assert.strictEqual(viewSites?.title, "Voir mes chantiers")

      yield* TestClock.adjust("20 seconds")
      const list = yield* say({ _tag: "ButtonReply", id: viewSites!.id, title: viewSites!.title }, { on: menu[0] })
      log(`[tap] ${viewSites!.title}`, list)
      const champigny = rows(list[0]).find((r) => r.title === "Champigny")
      assert.isDefined(champigny, "the list of sites contains Champigny")

      yield* TestClock.adjust("15 seconds")
      const tasks = yield* say({ _tag: "ListReply", id: champigny!.id, title: champigny!.title }, { on: list[0] })
      log(`[tap] ${champigny!.title}`, tasks)
      assert.strictEqual(tasks[0]?._tag, "ListReplyMessage")
      assert.deepStrictEqual(rows(tasks[0]).map((r) => r.title), ["Pose des cloisons R+1", "Réseau électrique lot B", "Ragréage hall d'entrée"])

      // Typing a row's number after a list resolves through the history too.
      const detail = yield* say({ _tag: "Text", body: "2" })
      log("2", detail)
      assert.match(detail[0]?.body ?? "", /Réseau électrique lot B/)

      console.log(`transcript:\n${transcript.join("\n")}`)

      const { messages } = yield* (yield* InMemoryMessaging).inspect
      const sessions = new Set(messages.map((m) => m.sessionId))
      assert.strictEqual(messages.length, 8, "4 inbound + 4 outbound")
      assert.strictEqual(sessions.size, 1, "every message in ONE session")
      const all = yield* (yield* SessionStore).listByUser(karim.id)
      assert.strictEqual(all.length, 1)
      assert.strictEqual(all[0]?.status, "active")

      // What the seed's logs lacked: each tap carried its list's session, typed text reused it,
      // direct actions hit, and every stage after the first saw a non-empty context.
      const resolutions = (outcome: string) => Metric.value(Metric.withAttributes(sessionResolutions, { outcome })).pipe(Effect.map((s) => s.count))
      assert.deepStrictEqual(
        [yield* resolutions("created"), yield* resolutions("carried"), yield* resolutions("reused")],
        [1, 2, 1],
        "created by Bonjour, carried by the two taps, reused by the typed 2"
      )
      const hits = yield* Metric.value(Metric.withAttributes(directActions, { tool: "list_projects_tool", result: "hit" }))
      assert.strictEqual(hits.count, 1)
      const context = yield* Metric.value(contextMessages)
      assert.strictEqual(context.count, 4)
      assert.isAbove(context.max, 0, "the tap saw the list in its context")
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a tap after the session expired says so and shows the menu again", () =>
    Effect.gen(function*() {
      yield* say({ _tag: "Text", body: "salut" })
      const list = yield* say({ _tag: "ButtonReply", id: "menu_view_sites", title: "Voir mes chantiers" })
      const row = rows(list[0])[0]!
      yield* TestClock.adjust("45 minutes")
      // The tap carries its list's session, but that session idled out: it is ended, not revived.
      const replies = yield* say({ _tag: "ListReply", id: row.id, title: row.title }, { on: list[0] })
      assert.strictEqual(replies.length, 1)
      assert.match(replies[0]!.body, /n'est plus active/)
      assert.strictEqual(replies[0]!._tag, "ButtonsReply")
      const miss = yield* Metric.value(Metric.withAttributes(directActions, { tool: "list", result: "miss" }))
      assert.strictEqual(miss.count, 1)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("an unknown number gets a polite refusal and no session", () =>
    Effect.gen(function*() {
      const replies = yield* say({ _tag: "Text", body: "Bonjour" }, { from: "+33700000000" })
      assert.match(replies[0]?.body ?? "", /n'est pas enregistré/)
      const { messages } = yield* (yield* InMemoryMessaging).inspect
      assert.strictEqual(messages.length, 0)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("English users get English; talk to someone escalates and the next message starts a new session", () =>
    Effect.gen(function*() {
      const sarah = demoSubcontractors[1]!
      const menu = yield* say({ _tag: "Text", body: "Hello" }, { from: sarah.phone })
      assert.match(menu[0]!.body, /What would you like to do/)
      const handed = yield* say({ _tag: "ButtonReply", id: "menu_talk", title: "Talk to someone" }, { from: sarah.phone, on: menu[0] })
      assert.match(handed[0]!.body, /Someone from the team/)
      const sessions = yield* (yield* SessionStore).listByUser(sarah.id)
      assert.deepStrictEqual(sessions.map((s) => s.status), ["escalated"])
      yield* say({ _tag: "Text", body: "hi again" }, { from: sarah.phone })
      const after = yield* (yield* SessionStore).listByUser(sarah.id)
      assert.deepStrictEqual(after.map((s) => s.status), ["active", "escalated"])
    }).pipe(Effect.provide(TestLayer)))

  it.effect("report a problem: choose the site, describe it, the incident is recorded once", () =>
    Effect.gen(function*() {
      const ask = yield* say({ _tag: "Text", body: "je veux signaler un problème" })
      const montreuil = rows(ask[0]).find((r) => r.title === "Montreuil")!
      const describe = yield* say({ _tag: "ListReply", id: montreuil.id, title: montreuil.title })
      assert.match(describe[0]!.body, /Décrivez le problème sur Montreuil/)
      const done = yield* say({ _tag: "Media", kind: "image", ref: "media-1", caption: "fuite au R+2" })
      assert.match(done[0]!.body, /problème sur Montreuil est enregistré/)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a redelivered webhook is acknowledged and not processed again", () =>
    Effect.gen(function*() {
      const message = inboundOf(karim.phone, { _tag: "Text", body: "Bonjour" })
      const first = yield* acceptInbound([message])
      const again = yield* acceptInbound([message, message])
      assert.deepStrictEqual([first.accepted, again.accepted, again.duplicates], [1, 0, 2])
      assert.strictEqual(yield* drainInbox(), 1)
      yield* drainOutbox
      assert.strictEqual((yield* (yield* RecordingMessenger).sent).length, 1)
    }).pipe(Effect.provide(TestLayer)))
})
