import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import {
  buttonsOf,
  deliverThrough,
  drainInbox,
  drainOutbox,
  inboundOf,
  killedAfterThePipeline,
  RecordingMessengerLayer
} from "@parley/core/testing"
import { demoSubcontractors, InMemoryAssistant } from "@parley/worksite"
import { incidentSummaries, startReport } from "@parley/worksite/testing"

const karim = demoSubcontractors[0]!
const sarah = demoSubcontractors[1]!
const TestLayer = () => Layer.mergeAll(InMemoryAssistant(), RecordingMessengerLayer)

describe("report a problem: a description and optional photos, over as many messages as the user needs", () => {
  it.effect("a description is recorded at once; photos sent after it are attached to the same incident; Done ends the report", () =>
    Effect.gen(function*() {
      const { chat, describe } = yield* startReport(karim, "Montreuil")
      assert.strictEqual(describe.body, "Décrivez le problème sur Montreuil (vous pouvez joindre une photo).")

      const [recorded] = yield* chat.say("Fuite d'eau au R+2")
      assert.strictEqual(recorded!.body, "✅ Problème enregistré sur Montreuil. Vous pouvez ajouter une photo.")
      assert.deepStrictEqual(buttonsOf(recorded), ["Ajouter une photo", "Terminé"])
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "Fuite d'eau au R+2", photos: [] }])

      const [first] = yield* chat.photo("media-1")
      assert.strictEqual(first!.body, "📷 Photo ajoutée au signalement sur Montreuil (1 photo). Envoyez-en une autre ou touchez « Terminé ».")
      assert.deepStrictEqual(buttonsOf(first), ["Terminé"])
      const [second] = yield* chat.photo("media-2", "vue de près")
      assert.match(second!.body, /\(2 photos\)/)
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "Fuite d'eau au R+2", photos: ["media-1", "media-2"] }], "one incident, both photos")

      const [done] = yield* chat.tap(second, "Terminé")
      assert.strictEqual(done!.body, "Merci, le problème sur Montreuil est enregistré. L'équipe est prévenue.")
      assert.deepStrictEqual(buttonsOf(done), ["Voir mes chantiers", "Signaler un problème", "Parler à quelqu'un"])
      const [after] = yield* chat.photo("media-3")
      assert.match(after!.body, /Je ne sais pas encore lire ce type de message/, "the report is over: a photo now is out of context")
      assert.strictEqual((yield* incidentSummaries(karim))[0]!.photos.length, 2)
    }).pipe(Effect.provide(TestLayer())))

  it.effect("\"Add a photo\" says how; the next photo is attached", () =>
    Effect.gen(function*() {
      const { chat } = yield* startReport(karim, "Champigny")
      const [recorded] = yield* chat.say("Cloison fissurée")
      const [how] = yield* chat.tap(recorded, "Ajouter une photo")
      assert.strictEqual(how!.body, "Envoyez la photo maintenant (📎 puis Galerie ou Appareil photo).")
      assert.deepStrictEqual(buttonsOf(how), ["Terminé"])
      const [added] = yield* chat.photo("media-9")
      assert.match(added!.body, /Photo ajoutée au signalement sur Champigny \(1 photo\)/)
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "Cloison fissurée", photos: ["media-9"] }])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("a photo first: the assistant asks for the description, and it completes the same incident", () =>
    Effect.gen(function*() {
      const { chat } = yield* startReport(karim, "Montreuil")
      const [ask] = yield* chat.photo("media-1")
      assert.strictEqual(ask!.body, "📷 Photo reçue pour Montreuil. Décrivez le problème en quelques mots.")
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "", photos: ["media-1"] }], "recorded at once, so nothing is lost")
      const [another] = yield* chat.photo("media-2")
      assert.strictEqual(another!.body, ask!.body, "more photos, still waiting for words")
      const [done] = yield* chat.say("Vitre cassée au rez-de-chaussée")
      assert.strictEqual(done!.body, "Merci, le problème sur Montreuil est enregistré. L'équipe est prévenue.")
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "Vitre cassée au rez-de-chaussée", photos: ["media-1", "media-2"] }])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("a photo with its caption is the whole report, in one step", () =>
    Effect.gen(function*() {
      const { chat } = yield* startReport(karim, "Montreuil")
      const [done] = yield* chat.photo("media-1", "fuite au R+2")
      assert.strictEqual(done!.body, "Merci, le problème sur Montreuil est enregistré. L'équipe est prévenue.")
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "fuite au R+2", photos: ["media-1"] }])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("while a photo is awaited, other text gets a reminder, a request leaves the report, and \"2\" is Done", () =>
    Effect.gen(function*() {
      const { chat } = yield* startReport(karim, "Montreuil")
      yield* chat.say("Fuite")
      const [reminder] = yield* chat.say("euh attends")
      assert.strictEqual(reminder!.body, "J'attends une photo du problème : envoyez-la, ou touchez « Terminé ».")
      const [added] = yield* chat.photo("media-1")
      assert.match(added!.body, /1 photo/)
      const [sites] = yield* chat.say("voir mes chantiers")
      assert.strictEqual(sites!.body, "Vos chantiers (3)", "a request of its own is not a reminder")

      const next = yield* startReport(karim, "Champigny")
      yield* next.chat.say("Porte bloquée")
      const [done] = yield* next.chat.say("2")
      assert.match(done!.body, /problème sur Champigny est enregistré/, "Twilio's numbered \"2. Terminé\"")
      assert.strictEqual((yield* incidentSummaries(karim)).length, 2)
    }).pipe(Effect.provide(TestLayer())))

  it.effect("in English for English users", () =>
    Effect.gen(function*() {
      const { chat, describe } = yield* startReport(sarah, "Ivry-sur-Seine")
      assert.strictEqual(describe.body, "Describe the problem on Ivry-sur-Seine (you can attach a photo).")
      const [recorded] = yield* chat.say("Roof leak")
      assert.strictEqual(recorded!.body, "✅ Problem recorded on Ivry-sur-Seine. You can add a photo.")
      assert.deepStrictEqual(buttonsOf(recorded), ["Add a photo", "Done"])
      const [added] = yield* chat.photo("media-1")
      assert.strictEqual(added!.body, "📷 Photo added to the report on Ivry-sur-Seine (1 photo). Send another one or tap \"Done\".")
      const [done] = yield* chat.tap(added, "Done")
      assert.strictEqual(done!.body, "Thanks, the problem on Ivry-sur-Seine is recorded. The team has been told.")
      const [photoFirst] = yield* (yield* startReport(sarah, "Champigny")).chat.photo("media-2")
      assert.strictEqual(photoFirst!.body, "📷 Photo received for Champigny. Describe the problem in a few words.")
    }).pipe(Effect.provide(TestLayer())))

  it.effect("each step is recorded once when its message is processed twice (a worker killed after the tool ran, a redelivery)", () =>
    Effect.gen(function*() {
      const { chat } = yield* startReport(karim, "Montreuil")
      const photo = inboundOf(karim.phone, { _tag: "Media", kind: "image", ref: "media-1" })
      yield* killedAfterThePipeline(photo)
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "", photos: ["media-1"] }])
      assert.strictEqual(yield* drainInbox(), 1)
      yield* drainOutbox
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "", photos: ["media-1"] }], "one incident, one photo")

      const second = inboundOf(karim.phone, { _tag: "Media", kind: "image", ref: "media-2" })
      yield* killedAfterThePipeline(second)
      assert.strictEqual(yield* drainInbox(), 1)
      yield* drainOutbox
      assert.deepStrictEqual(yield* deliverThrough(second), [], "redelivered: acknowledged, not processed")
      const [done] = yield* chat.say("Fuite")
      assert.match(done!.body, /est enregistré/)
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "Fuite", photos: ["media-1", "media-2"] }])
    }).pipe(Effect.provide(TestLayer())))
})
