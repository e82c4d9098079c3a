import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { acceptInbound, Handoff, Inbox, processMessage, type Reply, SessionStore } from "@parley/core"
import { InMemoryMessaging } from "@parley/core/memory"
import {
  buttonsOf,
  chatAs,
  deliverThrough,
  drainInbox,
  drainOutbox,
  inboundOf,
  killedAfterThePipeline,
  makeLogRecorder,
  RecordingMessenger,
  RecordingMessengerLayer,
  rowsOf
} from "@parley/core/testing"
import { demoSubcontractors, InMemoryAssistant, TaskId, Worksite } from "@parley/worksite"

const karim = demoSubcontractors[0]!
const sarah = demoSubcontractors[1]!
const TestLayer = () => Layer.mergeAll(InMemoryAssistant(), RecordingMessengerLayer)
const reseau = TaskId.make("00000000-0000-4000-8000-000000001002")

/** Bonjour → View Sites → Champigny → the task "Réseau électrique lot B", each by a tap on the previous reply. */
const openTask = (chat: ReturnType<typeof chatAs>, labels: { readonly viewSites: string }) =>
  Effect.gen(function*() {
    const [menu] = yield* chat.say("Bonjour")
    const [sites] = yield* chat.tap(menu, labels.viewSites)
    const [tasks] = yield* chat.tap(sites, "Champigny")
    const [detail] = yield* chat.tap(tasks, "Réseau électrique lot B")
    return { tasks: tasks!, detail: detail! }
  })

describe("the worksite assistant, message by message through inbox, workers and outbox", () => {
  it.effect("tapping a task row opens its detail, with Mark done / Report a problem / Back (French)", () =>
    Effect.gen(function*() {
      const { detail } = yield* openTask(chatAs(karim.phone), { viewSites: "Voir mes chantiers" })
      assert.strictEqual(detail._tag, "ButtonsReply")
      assert.strictEqual(detail.body, "Réseau électrique lot B\nStatut : à faire\nÉchéance : 2026-12-11")
      assert.deepStrictEqual(buttonsOf(detail), ["Marquer terminé", "Signaler un problème", "Retour"])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("the task detail is in English for English users", () =>
    Effect.gen(function*() {
      const { detail } = yield* openTask(chatAs(sarah.phone), { viewSites: "View Sites" })
      assert.strictEqual(detail.body, "Réseau électrique lot B\nStatus: to do\nDue: 2026-12-11")
      assert.deepStrictEqual(buttonsOf(detail), ["Mark done", "Report a problem", "Back"])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("Mark done changes the task's status and says so; the detail no longer offers it", () =>
    Effect.gen(function*() {
      const chat = chatAs(karim.phone)
      const worksite = yield* Worksite
      const { detail } = yield* openTask(chat, { viewSites: "Voir mes chantiers" })
      assert.strictEqual((yield* worksite.task(karim.id, reseau))?.status, "todo")
      const [done] = yield* chat.tap(detail, "Marquer terminé")
      assert.strictEqual(done!.body, "✅ « Réseau électrique lot B » est marquée terminée.")
      assert.deepStrictEqual(buttonsOf(done), ["Signaler un problème", "Retour"])
      assert.strictEqual((yield* worksite.task(karim.id, reseau))?.status, "done")
    }).pipe(Effect.provide(TestLayer())))

  it.effect("Back returns to the task list", () =>
    Effect.gen(function*() {
      const chat = chatAs(karim.phone)
      const { tasks, detail } = yield* openTask(chat, { viewSites: "Voir mes chantiers" })
      const [back] = yield* chat.tap(detail, "Retour")
      assert.strictEqual(back!._tag, "ListReplyMessage")
      assert.strictEqual(back!.body, tasks.body)
      assert.deepStrictEqual(rowsOf(back).map((r) => r.title), ["Pose des cloisons R+1", "Réseau électrique lot B", "Ragréage hall d'entrée"])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("typing \"Champigny\" after the site list opens its tasks", () =>
    Effect.gen(function*() {
      const chat = chatAs(karim.phone)
      const [menu] = yield* chat.say("Bonjour")
      yield* chat.tap(menu, "Voir mes chantiers")
      const [tasks] = yield* chat.say("champigny")
      assert.strictEqual(tasks!.body, "Champigny — 3 tâches")
      assert.deepStrictEqual(rowsOf(tasks).map((r) => r.title), ["Pose des cloisons R+1", "Réseau électrique lot B", "Ragréage hall d'entrée"])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("Talk to someone tells the Handoff port and logs handoff.requested, once", () =>
    Effect.gen(function*() {
      const logs = makeLogRecorder()
      const chat = chatAs(karim.phone)
      const [menu] = yield* chat.say("Bonjour")
      const [handed] = yield* chat.tap(menu, "Parler à quelqu'un").pipe(Effect.provide(logs.layer))
      assert.match(handed!.body, /Un membre de l'équipe va vous répondre/)
      const [session] = yield* (yield* SessionStore).listByUser(karim.id)
      assert.strictEqual(session?.status, "escalated")
      const handoffs = yield* (yield* Handoff).list(10)
      assert.deepStrictEqual(
        handoffs.map((h) => [h.sessionId, h.userId, h.displayName, h.maskedPhone]),
        [[session!.id, karim.id, "Karim", "+33•••••••78"]]
      )
      const events = logs.events("handoff.requested")
      assert.strictEqual(events.length, 1)
      assert.strictEqual(events[0]!.annotations["sessionId"], session!.id)
      assert.notInclude(JSON.stringify(logs.records.map((r) => r.annotations)), karim.phone, "no phone number in clear")
    }).pipe(Effect.provide(TestLayer())))

  it.effect("anything else gets the help text and the menu, in the user's language", () =>
    Effect.gen(function*() {
      const [fr] = yield* chatAs(karim.phone).say("blabla")
      assert.strictEqual(fr!.body, "Je n'ai pas compris. Écrivez « menu » ou choisissez une option :")
      assert.deepStrictEqual(buttonsOf(fr), ["Voir mes chantiers", "Signaler un problème", "Parler à quelqu'un"])
      const [en] = yield* chatAs(sarah.phone).say("what's the weather like")
      assert.strictEqual(en!.body, "I didn't get that. Type \"menu\" or pick an option:")
      assert.deepStrictEqual(buttonsOf(en), ["View Sites", "Report a problem", "Talk to someone"])
    }).pipe(Effect.provide(TestLayer())))
})

describe("buttons degraded to numbered text (Twilio): a typed number or label picks what was shown", () => {
  it.effect("\"1\", \"2\", \"3\" or a label after the menu run its options", () =>
    Effect.gen(function*() {
      const chat = chatAs(karim.phone)
      yield* chat.say("Bonjour")
      const [sites] = yield* chat.say("1")
      assert.strictEqual(sites!.body, "Vos chantiers (3)")
      yield* chat.say("menu")
      const [which] = yield* chat.say("2")
      assert.strictEqual(which!.body, "Sur quel chantier est le problème ?")
      yield* chat.say("menu")
      const [byLabel] = yield* chat.say("voir mes chantiers")
      assert.strictEqual(byLabel!.body, "Vos chantiers (3)")
      yield* chat.say("menu")
      const [handed] = yield* chat.say("3")
      assert.match(handed!.body, /Un membre de l'équipe/)
      assert.strictEqual((yield* (yield* Handoff).list(10)).length, 1)
    }).pipe(Effect.provide(TestLayer())))

  it.effect("numbers count the buttons shown: with Mark done gone, \"2\" is Back", () =>
    Effect.gen(function*() {
      const chat = chatAs(karim.phone)
      const { detail } = yield* openTask(chat, { viewSites: "Voir mes chantiers" })
      yield* chat.tap(detail, "Marquer terminé")
      const [back] = yield* chat.say("2")
      assert.strictEqual(back!.body, "Champigny — 3 tâches", "the second button shown, not the option with id option_2")
    }).pipe(Effect.provide(TestLayer())))
})

describe("a handoff is told once, even when its message is processed twice", () => {
  it.effect("the worker is interrupted after the tool ran, and the message is processed again", () =>
    Effect.gen(function*() {
      const logs = makeLogRecorder()
      const [menu] = yield* chatAs(karim.phone).say("Bonjour")
      const talk = inboundOf(karim.phone, { _tag: "ButtonReply", id: "menu_talk", title: "Parler à quelqu'un" })
      yield* killedAfterThePipeline(talk).pipe(Effect.provide(logs.layer))
      assert.strictEqual(yield* drainInbox().pipe(Effect.provide(logs.layer)), 1)
      assert.strictEqual(menu!._tag, "ButtonsReply")
      assert.strictEqual((yield* (yield* Handoff).list(10)).length, 1)
      assert.strictEqual(logs.events("handoff.requested").length, 1)
      assert.deepStrictEqual((yield* (yield* SessionStore).listByUser(karim.id)).map((s) => s.status), ["escalated"])
    }).pipe(Effect.provide(TestLayer())))
})

describe("an incident is recorded once, even when its message is processed twice", () => {
  /** "Signaler un problème" → Montreuil: the next text is the description. */
  const askForDescription = Effect.gen(function*() {
    const chat = chatAs(karim.phone)
    const [which] = yield* chat.say("signaler un problème")
    const [describe] = yield* chat.tap(which, "Montreuil")
    assert.match(describe!.body, /Décrivez le problème sur Montreuil/)
  })
  const incidents = Effect.gen(function*() {
    return yield* (yield* Worksite).incidentsOf(karim.id)
  })
  const storedInbound = (providerMessageId: string) =>
    Effect.gen(function*() {
      const { messages } = yield* (yield* InMemoryMessaging).inspect
      return messages.filter((m) => m.providerMessageId === providerMessageId).length
    })

  it.effect("the worker is interrupted after the tool ran, and the message is processed again", () =>
    Effect.gen(function*() {
      yield* askForDescription
      const description = inboundOf(karim.phone, { _tag: "Text", body: "fuite au R+2" })
      yield* killedAfterThePipeline(description)
      assert.strictEqual((yield* incidents).length, 1, "the tool ran once")
      assert.strictEqual(yield* storedInbound(description.providerMessageId), 0, "nothing committed")

      assert.strictEqual(yield* drainInbox(), 1, "the released message is processed again")
      yield* drainOutbox
      const all = yield* incidents
      assert.strictEqual(all.length, 1, "recorded once")
      assert.strictEqual(all[0]!.description, "fuite au R+2")
      assert.strictEqual(yield* storedInbound(description.providerMessageId), 1)
      const replies = (yield* (yield* RecordingMessenger).sent).filter((s) => s.replyId.includes(description.providerMessageId))
      assert.deepStrictEqual(replies.map((r) => r.reply.body), ["✅ Problème enregistré sur Montreuil. Vous pouvez ajouter une photo."])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("two workers process it (a lease taken over): one commits, the other is fenced out", () =>
    Effect.gen(function*() {
      yield* askForDescription
      const description = inboundOf(karim.phone, { _tag: "Text", body: "plus de courant" })
      yield* acceptInbound([description])
      const inbox = yield* Inbox
      const lease = Duration.seconds(60)
      const slow = (yield* inbox.claim(yield* Clock.currentTimeMillis, lease))!
      const slowTurn = yield* processMessage(description)
      yield* TestClock.adjust(Duration.seconds(61))
      const fast = (yield* inbox.claim(yield* Clock.currentTimeMillis, lease))!
      assert.strictEqual(fast.entry.id, slow.entry.id)
      yield* inbox.complete(fast, yield* processMessage(description))
      assert.strictEqual((yield* Effect.flip(inbox.complete(slow, slowTurn)))._tag, "LeaseLost")
      assert.strictEqual((yield* incidents).length, 1)
      assert.strictEqual(yield* storedInbound(description.providerMessageId), 1)
    }).pipe(Effect.provide(TestLayer())))

  it.effect("the provider redelivers the webhook", () =>
    Effect.gen(function*() {
      yield* askForDescription
      const description = inboundOf(karim.phone, { _tag: "Text", body: "porte bloquée" })
      const first: ReadonlyArray<Reply> = yield* deliverThrough(description)
      assert.strictEqual(first.length, 1)
      const again = yield* deliverThrough(description)
      assert.deepStrictEqual(again, [], "acknowledged as a duplicate, not answered again")
      assert.strictEqual((yield* incidents).length, 1)
    }).pipe(Effect.provide(TestLayer())))
})
