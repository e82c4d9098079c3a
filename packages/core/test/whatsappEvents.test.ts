import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric } from "effect"
import {
  BusinessScopedUserId,
  copy,
  demoSubcontractors,
  Directory,
  directoryChanges,
  InboundMessage,
  InMemoryAssistant,
  MessageStore,
  notRegistered,
  PhoneNumber,
  recordedMessages,
  SessionStore,
  type MessageContent,
  type Subcontractor,
  type UserAddress
} from "@parley/core"
import { chatAs, deliverThrough, incidentSummaries, RecordingMessenger, RecordingMessengerLayer, startReport } from "@parley/core/testing"

/**
 * What the assistant does with the WhatsApp events that are not requests
 * (Meta's reaction, revoke, edit, system, group and username webhooks), seen
 * through the whole pipeline: inbox → workers → outbox. Each test says what
 * is stored, what is replied, and what is counted.
 */
const karim = demoSubcontractors[0]!
const sarah = demoSubcontractors[1]!
const bsuid = BusinessScopedUserId.make("FR.13491208655302741918")
const TestLayer = () => Layer.mergeAll(InMemoryAssistant(), RecordingMessengerLayer)

let n = 0
const message = (
  from: UserAddress,
  content: MessageContent,
  extra: { readonly id?: string; readonly userId?: BusinessScopedUserId; readonly group?: string; readonly replyTo?: string } = {}
) =>
  new InboundMessage({
    provider: "meta",
    providerMessageId: extra.id ?? `wamid.event.${++n}.${crypto.randomUUID()}`,
    from,
    ...(extra.userId === undefined ? {} : { userId: extra.userId }),
    ...(extra.group === undefined ? {} : { group: extra.group }),
    sentAt: 0,
    content,
    ...(extra.replyTo === undefined ? {} : { replyTo: extra.replyTo })
  })

/** The user's stored conversation, oldest first, session by session. */
const conversation = (user: Subcontractor) =>
  Effect.gen(function*() {
    const sessions = yield* (yield* SessionStore).listByUser(user.id)
    const store = yield* MessageStore
    return yield* Effect.forEach(sessions, (s) => Effect.map(store.recent(s.id, 100), (ms) => ({ session: s.id, messages: [...ms].reverse() })))
  })
const lastStored = (user: Subcontractor) => Effect.map(conversation(user), (sessions) => sessions.flatMap((s) => s.messages).at(-1)!)
const recorded = (what: string) => Effect.map(Metric.value(Metric.withAttributes(recordedMessages, { what })), (s) => s.count)
const changed = (change: string) => Effect.map(Metric.value(Metric.withAttributes(directoryChanges, { change })), (s) => s.count)
const sentTo = (to: string) => Effect.map(Effect.flatMap(Effect.service(RecordingMessenger), (m) => m.sent), (sent) => sent.filter((s) => s.to === to))

describe("reactions and deletions are recorded in the session, never answered", () => {
  it.effect("a 👍 on our menu and its removal: stored in the menu's session, no reply, counted", () =>
    Effect.gen(function*() {
      const [menu] = yield* chatAs(karim.phone).say("Bonjour")
      const menuId = (yield* sentTo(karim.phone))[0]!.providerMessageId
      const before = yield* recorded("reaction")

      assert.deepStrictEqual(yield* deliverThrough(message(karim.phone, { _tag: "Reaction", messageId: menuId, emoji: "👍" }, { replyTo: menuId })), [])
      assert.deepStrictEqual(yield* deliverThrough(message(karim.phone, { _tag: "Reaction", messageId: menuId }, { replyTo: menuId })), [])

      const [session, ...others] = yield* conversation(karim)
      assert.strictEqual(others.length, 0, "one session")
      assert.deepStrictEqual(session!.messages.map((m) => [m.direction, m.content]), [
        ["inbound", "Bonjour"],
        ["outbound", menu!.body],
        ["inbound", "[reaction 👍]"],
        ["inbound", "[reaction removed]"]
      ])
      assert.deepStrictEqual(session!.messages[2]!.metadata.received, { _tag: "Reaction", messageId: menuId, emoji: "👍" })
      assert.strictEqual(session!.messages[2]!.metadata.action, "Record")
      assert.strictEqual((yield* recorded("reaction")) - before, 2)
    }).pipe(Effect.provide(TestLayer())))

  it.effect("deleting a message: stored, no reply, counted", () =>
    Effect.gen(function*() {
      const before = yield* recorded("deletion")
      assert.deepStrictEqual(yield* deliverThrough(message(karim.phone, { _tag: "Deleted", messageId: "wamid.userSaid" })), [])
      assert.strictEqual((yield* lastStored(karim)).content, "[deleted a message]")
      assert.strictEqual((yield* recorded("deletion")) - before, 1)
    }).pipe(Effect.provide(TestLayer())))

  it.effect("a stranger's reaction gets no reply either (the refusal is for requests)", () =>
    Effect.gen(function*() {
      const stranger = PhoneNumber.make("+33600000001")
      assert.deepStrictEqual(yield* deliverThrough(message(stranger, { _tag: "Reaction", messageId: "wamid.x", emoji: "👍" })), [])
      assert.deepStrictEqual(yield* deliverThrough(message(stranger, { _tag: "Text", body: "hello" })), [{ _tag: "TextReply", body: notRegistered }])
    }).pipe(Effect.provide(TestLayer())))
})

describe("an edit corrects the user's last message while its answer changed nothing; otherwise it is recorded", () => {
  it.effect("a typo answered with the help text, then edited: answered as the corrected message", () =>
    Effect.gen(function*() {
      const [help] = yield* deliverThrough(message(karim.phone, { _tag: "Text", body: "voir mes chntiers" }, { id: "wamid.typo" }))
      assert.include(help!.body, copy.fr.help)
      const [list] = yield* deliverThrough(message(karim.phone, { _tag: "Edited", messageId: "wamid.typo", content: { _tag: "Text", body: "voir mes chantiers" } }))
      assert.strictEqual(list?._tag, "ListReplyMessage", "the sites list, as if the message had been sent right")
      const edit = yield* lastStored(karim).pipe(Effect.flatMap(() => conversation(karim)), Effect.map((s) => s.flatMap((x) => x.messages).at(-2)!))
      assert.deepStrictEqual([edit.direction, edit.content, edit.metadata.action], ["inbound", "[edited] voir mes chantiers", "ListProjects"])

      // A second edit of the same message still corrects it: its answers so far changed nothing.
      const [again] = yield* deliverThrough(message(karim.phone, { _tag: "Edited", messageId: "wamid.typo", content: { _tag: "Text", body: "menu" } }))
      assert.strictEqual(again?._tag, "ButtonsReply")
    }).pipe(Effect.provide(TestLayer())))

  it.effect("an edit of a problem description already recorded: recorded, no reply, the incident unchanged", () =>
    Effect.gen(function*() {
      const { describe } = yield* startReport(karim, "Champigny")
      assert.isDefined(describe)
      const [done] = yield* deliverThrough(message(karim.phone, { _tag: "Text", body: "fuite au R+2" }, { id: "wamid.report" }))
      assert.isDefined(done)
      const before = yield* recorded("edit")
      assert.deepStrictEqual(yield* deliverThrough(message(karim.phone, { _tag: "Edited", messageId: "wamid.report", content: { _tag: "Text", body: "fuite au R+3" } })), [])
      assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "fuite au R+2", photos: [] }])
      assert.strictEqual((yield* lastStored(karim)).content, "[edited] fuite au R+3")
      assert.strictEqual((yield* recorded("edit")) - before, 1)
    }).pipe(Effect.provide(TestLayer())))

  it.effect("an edit of an older message, or of a photo's caption: recorded, no reply", () =>
    Effect.gen(function*() {
      yield* deliverThrough(message(karim.phone, { _tag: "Text", body: "bonjour" }, { id: "wamid.old" }))
      yield* deliverThrough(message(karim.phone, { _tag: "Text", body: "merci" }))
      assert.deepStrictEqual(yield* deliverThrough(message(karim.phone, { _tag: "Edited", messageId: "wamid.old", content: { _tag: "Text", body: "chantiers" } })), [])
      assert.deepStrictEqual(
        yield* deliverThrough(message(karim.phone, { _tag: "Edited", messageId: "wamid.old", content: { _tag: "Media", kind: "image", ref: "1", caption: "x" } })),
        []
      )
      assert.strictEqual((yield* lastStored(karim)).metadata.action, "Record")
      // An edit whose new content is of a kind the provider adapter does not read: recorded too.
      yield* deliverThrough(message(karim.phone, { _tag: "Text", body: "bonjour" }, { id: "wamid.last" }))
      assert.deepStrictEqual(yield* deliverThrough(message(karim.phone, { _tag: "Edited", messageId: "wamid.last" })), [])
      assert.strictEqual((yield* lastStored(karim)).content, "[edited]")
    }).pipe(Effect.provide(TestLayer())))
})

describe("identity: the phone number when given, the business-scoped user id always", () => {
  it.effect("the directory learns Karim's BSUID from a message with both, then knows him by it alone; he is answered at his number", () =>
    Effect.gen(function*() {
      yield* deliverThrough(message(karim.phone, { _tag: "Text", body: "Bonjour" }, { userId: bsuid }))
      assert.strictEqual((yield* (yield* Directory).byPhone(karim.phone))?.whatsappUserId, bsuid)

      const [menu] = yield* deliverThrough(message(bsuid, { _tag: "Text", body: "Bonjour" }, { userId: bsuid }))
      assert.include(menu!.body, "Karim", "recognised by the BSUID alone")
      assert.strictEqual((yield* sentTo(bsuid)).length, 0, "Meta recommends sending to the number when it is known")
      assert.strictEqual((yield* sentTo(karim.phone)).length, 2)
      const sessions = yield* conversation(karim)
      assert.strictEqual(sessions.length, 1, "the same conversation, whichever id the message came with")
      assert.strictEqual(sessions[0]!.messages.filter((m) => m.direction === "inbound").length, 2)
    }).pipe(Effect.provide(TestLayer())))

  it.effect("an unknown BSUID gets the refusal, addressed to it", () =>
    Effect.gen(function*() {
      const stranger = BusinessScopedUserId.make("US.99")
      assert.deepStrictEqual(yield* deliverThrough(message(stranger, { _tag: "Text", body: "hi" }, { userId: stranger })), [{ _tag: "TextReply", body: notRegistered }])
      assert.strictEqual((yield* sentTo(stranger)).length, 1)
    }).pipe(Effect.provide(TestLayer())))

  it.effect("user_changed_number: the directory follows, nobody is answered; a number taken by someone else is refused", () =>
    Effect.gen(function*() {
      const newPhone = PhoneNumber.make("+33699887766")
      const before = [yield* changed("phone"), yield* changed("phone_refused")] as const
      assert.deepStrictEqual(
        yield* deliverThrough(message(karim.phone, { _tag: "SystemNotice", kind: "user_changed_number", body: "User Karim changed from 33612345678 to 33699887766", newPhone })),
        []
      )
      const directory = yield* Directory
      assert.strictEqual((yield* directory.byPhone(newPhone))?.id, karim.id)
      assert.isUndefined(yield* directory.byPhone(karim.phone))
      const [menu] = yield* deliverThrough(message(newPhone, { _tag: "Text", body: "Bonjour" }))
      assert.include(menu!.body, "Karim", "answered as Karim at his new number")

      // Sarah's number is Sarah's: Karim cannot take it.
      assert.deepStrictEqual(yield* deliverThrough(message(newPhone, { _tag: "SystemNotice", kind: "user_changed_number", newPhone: sarah.phone })), [])
      assert.strictEqual((yield* directory.byPhone(sarah.phone))?.id, sarah.id)
      assert.strictEqual((yield* directory.byPhone(newPhone))?.id, karim.id)
      assert.deepStrictEqual([(yield* changed("phone")) - before[0], (yield* changed("phone_refused")) - before[1]], [1, 1])
    }).pipe(Effect.provide(TestLayer())))

  it.effect("user_changed_user_id: the new BSUID finds the user", () =>
    Effect.gen(function*() {
      const next = BusinessScopedUserId.make("FR.99991208655302741918")
      yield* deliverThrough(message(karim.phone, { _tag: "Text", body: "Bonjour" }, { userId: bsuid }))
      assert.deepStrictEqual(yield* deliverThrough(message(bsuid, { _tag: "SystemNotice", kind: "user_changed_user_id", newUserId: next }, { userId: bsuid })), [])
      const directory = yield* Directory
      assert.strictEqual((yield* directory.identify({ userId: next }))?.id, karim.id)
      assert.isUndefined(yield* directory.identify({ userId: bsuid }))
    }).pipe(Effect.provide(TestLayer())))
})

describe("groups: the assistant keeps to one-to-one conversations", () => {
  it.effect("a known user's group message is recorded with its group, not answered; a stranger's neither", () =>
    Effect.gen(function*() {
      const before = yield* recorded("group")
      assert.deepStrictEqual(yield* deliverThrough(message(karim.phone, { _tag: "Text", body: "chantiers" }, { group: "120363025246125486" })), [])
      const stored = yield* lastStored(karim)
      assert.deepStrictEqual([stored.content, stored.metadata.group], ["chantiers", "120363025246125486"])
      assert.deepStrictEqual(yield* deliverThrough(message(PhoneNumber.make("+33600000002"), { _tag: "Text", body: "hi" }, { group: "120363025246125486" })), [])
      assert.strictEqual((yield* recorded("group")) - before, 1)
    }).pipe(Effect.provide(TestLayer())))
})

describe("contacts, locations and orders: answered that the assistant cannot use them, their data kept", () => {
  it.effect.each([
    ["contacts", { _tag: "Contacts", contacts: [{ name: "Paul Plombier", phones: ["+33 6 11 22 33 44"] }] }],
    ["location", { _tag: "Location", latitude: 48.8167, longitude: 2.5167, name: "Chantier" }],
    ["order", { _tag: "Order", catalogId: "194836987003835", items: [{ productId: "ciment-25kg", quantity: 4 }] }]
  ] as const)("%s", ([, content]) =>
    Effect.gen(function*() {
      const [reply] = yield* deliverThrough(message(karim.phone, content))
      assert.include(reply!.body, copy.fr.cannotRead)
      assert.deepStrictEqual((yield* conversation(karim)).flatMap((s) => s.messages).find((m) => m.direction === "inbound")?.metadata.received, content)
    }).pipe(Effect.provide(TestLayer())))
})
