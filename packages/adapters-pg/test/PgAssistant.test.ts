import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { PgAssistant, seedDemo } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import {
  BusinessScopedUserId,
  demoSubcontractors,
  Handoff,
  InboundMessage,
  PhoneNumber,
  SessionStore,
  Subcontractor,
  TaskId,
  UserId,
  Worksite,
  type MessageContent,
  type UserAddress
} from "@parley/core"
import {
  buttonsOf,
  chatAs,
  deliverThrough,
  drainInbox,
  drainOutbox,
  inboundOf,
  incidentSummaries,
  killedAfterThePipeline,
  makeLogRecorder,
  RecordingMessenger,
  RecordingMessengerLayer,
  startReport
} from "@parley/core/testing"
import { Effect, Layer } from "effect"

// A small pool: other test files hammer the same server with dozens of connections.
const seeded = Layer.effectDiscard(seedDemo()).pipe(Layer.provideMerge(TestDatabase({ maxConnections: 4 })))
const assistant = Layer.mergeAll(PgAssistant, RecordingMessengerLayer).pipe(Layer.provideMerge(seeded))

/** A user of their own per test (same sites as Karim, or Sarah for English), so tests share the database. */
const newUser = (locale: "fr" | "en" = "fr") =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const template = demoSubcontractors[locale === "fr" ? 0 : 1]!
    const user = new Subcontractor({
      id: UserId.make(crypto.randomUUID()),
      phone: PhoneNumber.make(`+336${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`),
      displayName: template.displayName,
      locale
    })
    yield* sql`INSERT INTO subcontractors (id, phone, display_name, locale) VALUES (${user.id}::uuid, ${user.phone}, ${user.displayName}, ${locale})`
    yield* sql`INSERT INTO project_assignments (subcontractor_id, project_id)
               SELECT ${user.id}::uuid, project_id FROM project_assignments WHERE subcontractor_id = ${template.id}::uuid`
    return user
  }).pipe(Effect.orDie)

describe("the worksite assistant on Postgres", () => {
  layer(assistant, { timeout: "60 seconds" })((it) => {
    it.effect("report a problem: a description, then photos attached to the same incident, then Done", () =>
      Effect.gen(function*() {
        const user = yield* newUser()
        const { chat } = yield* startReport(user, "Montreuil")
        const [recorded] = yield* chat.say("Fuite d'eau au R+2")
        assert.deepStrictEqual(buttonsOf(recorded), ["Ajouter une photo", "Terminé"])
        yield* chat.photo("media-1")
        const [second] = yield* chat.photo("media-2")
        assert.match(second!.body, /\(2 photos\)/)
        const [done] = yield* chat.tap(second, "Terminé")
        assert.match(done!.body, /le problème sur Montreuil est enregistré/)
        assert.deepStrictEqual(yield* incidentSummaries(user), [{ description: "Fuite d'eau au R+2", photos: ["media-1", "media-2"] }])
        const sql = yield* PgClient.PgClient
        const rows = yield* sql<{ photo_ref: string | null; photos: number }>`
          SELECT i.photo_ref, (SELECT count(*)::int FROM incident_photos p WHERE p.incident_id = i.id) AS photos
          FROM incidents i WHERE i.subcontractor_id = ${user.id}::uuid`
        assert.deepStrictEqual(rows.map((r) => [r.photo_ref, r.photos]), [[null, 2]])
      }))

    it.effect("a photo first, then its description; a photo with a caption is one step (English)", () =>
      Effect.gen(function*() {
        const user = yield* newUser("en")
        const { chat } = yield* startReport(user, "Champigny")
        const [ask] = yield* chat.photo("media-a")
        assert.strictEqual(ask!.body, "📷 Photo received for Champigny. Describe the problem in a few words.")
        const [done] = yield* chat.say("Broken window")
        assert.match(done!.body, /problem on Champigny is recorded/)
        const { chat: captioned } = yield* startReport(user, "Montreuil")
        const [oneStep] = yield* captioned.photo("media-b", "Cracked slab")
        assert.match(oneStep!.body, /problem on Montreuil is recorded/)
        assert.deepStrictEqual(yield* incidentSummaries(user), [
          { description: "Cracked slab", photos: ["media-b"] },
          { description: "Broken window", photos: ["media-a"] }
        ])
      }))

    it.effect("each step of a report is recorded once when its message is processed again after a killed worker", () =>
      Effect.gen(function*() {
        const user = yield* newUser()
        yield* startReport(user, "Montreuil")
        const description = inboundOf(user.phone, { _tag: "Text", body: "Plus de courant" })
        yield* killedAfterThePipeline(description)
        assert.strictEqual(yield* drainInbox(), 1)
        const photo = inboundOf(user.phone, { _tag: "Media", kind: "image", ref: "media-x" })
        yield* killedAfterThePipeline(photo)
        assert.strictEqual(yield* drainInbox(), 1)
        yield* drainOutbox
        assert.deepStrictEqual(yield* incidentSummaries(user), [{ description: "Plus de courant", photos: ["media-x"] }])
      }))

    it.effect("a username user: known by the BSUID learnt with their number; a reaction is stored, not answered; a stranger's BSUID gets the refusal there", () =>
      Effect.gen(function*() {
        const user = yield* newUser()
        const bsuid = BusinessScopedUserId.make(`FR.${crypto.randomUUID().replace(/-/g, "")}`)
        const from = (address: UserAddress, content: MessageContent) =>
          new InboundMessage({ provider: "meta", providerMessageId: `wamid.pg.${crypto.randomUUID()}`, from: address, userId: bsuid, sentAt: 0, content })
        yield* deliverThrough(from(user.phone, { _tag: "Text", body: "Bonjour" }))
        const [menu] = yield* deliverThrough(from(bsuid, { _tag: "Text", body: "Bonjour" }))
        assert.match(menu!.body, /Karim/)
        const sent = (yield* (yield* RecordingMessenger).sent).filter((s) => s.to === user.phone)
        assert.strictEqual(sent.length, 2, "a known user is answered at their number")
        assert.deepStrictEqual(yield* deliverThrough(from(bsuid, { _tag: "Reaction", messageId: sent[0]!.providerMessageId, emoji: "👍" })), [])
        const sql = yield* PgClient.PgClient
        const rows = yield* sql<{ content: string; session_id: string }>`
          SELECT content, session_id::text AS session_id FROM messages WHERE subcontractor_id = ${user.id}::uuid AND direction = 'inbound' ORDER BY created_at`
        assert.deepStrictEqual(rows.map((r) => r.content), ["Bonjour", "Bonjour", "[reaction 👍]"])
        assert.strictEqual(new Set(rows.map((r) => r.session_id)).size, 1, "one conversation, whichever id each message came with")
        const [linked] = yield* sql<{ whatsapp_user_id: string }>`SELECT whatsapp_user_id FROM subcontractors WHERE id = ${user.id}::uuid`
        assert.strictEqual(linked?.whatsapp_user_id, bsuid)
        const stranger = BusinessScopedUserId.make(`US.${crypto.randomUUID().replace(/-/g, "")}`)
        const [refusal] = yield* deliverThrough(new InboundMessage({ provider: "meta", providerMessageId: `wamid.pg.${crypto.randomUUID()}`, from: stranger, userId: stranger, sentAt: 0, content: { _tag: "Text", body: "hi" } }))
        assert.isDefined(refusal)
        assert.strictEqual((yield* (yield* RecordingMessenger).sent).filter((s) => s.to === stranger).length, 1, "through the Postgres outbox, addressed to the BSUID")
      }))

    it.effect("Mark done changes the task's status in the database", () =>
      Effect.gen(function*() {
        const user = yield* newUser()
        const chat = chatAs(user.phone)
        const [menu] = yield* chat.say("Bonjour")
        const [sites] = yield* chat.tap(menu, "Voir mes chantiers")
        const [tasks] = yield* chat.tap(sites, "Champigny")
        const [detail] = yield* chat.tap(tasks, "Ragréage hall d'entrée")
        assert.deepStrictEqual(buttonsOf(detail), ["Marquer terminé", "Signaler un problème", "Retour"])
        const [done] = yield* chat.say("1")
        assert.match(done!.body, /est marquée terminée/)
        const task = yield* (yield* Worksite).task(user.id, TaskId.make("00000000-0000-4000-8000-000000001003"))
        assert.strictEqual(task?.status, "done")
      }))

    it.effect("Talk to someone: one handoff row and one handoff.requested event, even when processed twice", () =>
      Effect.gen(function*() {
        const user = yield* newUser()
        const logs = makeLogRecorder()
        yield* chatAs(user.phone).say("Bonjour")
        yield* killedAfterThePipeline(inboundOf(user.phone, { _tag: "Text", body: "parler à quelqu'un" })).pipe(Effect.provide(logs.layer))
        assert.strictEqual(yield* drainInbox().pipe(Effect.provide(logs.layer)), 1)
        const [session] = yield* (yield* SessionStore).listByUser(user.id)
        assert.strictEqual(session?.status, "escalated")
        const mine = (yield* (yield* Handoff).list(1_000)).filter((h) => h.userId === user.id)
        assert.deepStrictEqual(mine.map((h) => h.sessionId), [session!.id])
        assert.strictEqual(logs.events("handoff.requested").length, 1)
      }))
  })
})
