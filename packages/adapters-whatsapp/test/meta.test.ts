import { assert, describe, it } from "@effect/vitest"
import { PhoneNumber } from "@parley/core"
import { Effect, Redacted } from "effect"
import { createHmac } from "node:crypto"
import { readFileSync } from "node:fs"
import * as fc from "fast-check"
import { MetaWebhook, metaSignature, SkippedItem, skipped as skippedItem } from "@parley/adapters-whatsapp"
import { metaWebhookPayload } from "@parley/adapters-whatsapp/testing"

const secret = "meta-app-secret-for-tests"
const webhook = MetaWebhook.make({ appSecret: Redacted.make(secret), verifyToken: Redacted.make("verify-me") })
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url))
/** Computed here with node:crypto, independently of the adapter's own signing code. */
const sign = (body: Uint8Array, key = secret) => `sha256=${createHmac("sha256", key).update(body).digest("hex")}`
const decode = (name: string) => webhook.verifyAndDecode(fixture(name), sign(fixture(name)))

describe("Meta Cloud API webhook: decoding every fixture", () => {
  it.effect("text", () =>
    Effect.gen(function*() {
      const { messages, statuses } = yield* decode("meta-text")
      assert.strictEqual(statuses.length, 0)
      assert.strictEqual(messages.length, 1)
      const m = messages[0]!
      assert.deepStrictEqual([m.provider, m.providerMessageId, m.from, m.profileName, m.sentAt], ["meta", "wamid.text1", "+33612345678", "Karim", 1732450000000])
      assert.deepStrictEqual(m.content, { _tag: "Text", body: "Bonjour" })
    }))

  // `replyTo` is the `context.id` Meta sends with a tap on our buttons and rows and with a quoted reply.
  it.effect.each([
    ["meta-button-reply", { _tag: "ButtonReply", id: "menu_view_sites", title: "Voir mes chantiers" }, "wamid.prev"],
    ["meta-list-reply", { _tag: "ListReply", id: "option_1", title: "Champigny", description: "12 rue de Bernaü" }, "wamid.prevlist"],
    ["meta-template-button", { _tag: "ButtonReply", id: "menu_talk", title: "Parler à quelqu'un" }, "wamid.prevtpl"],
    ["meta-quoted-reply", { _tag: "Text", body: "oui, celui-là" }, "wamid.ourQuestion"],
    ["meta-image", { _tag: "Media", kind: "image", ref: "1479537139650973", mimeType: "image/jpeg", caption: "fuite au R+2" }, undefined],
    ["meta-document", { _tag: "Media", kind: "document", ref: "2479537139650973", mimeType: "application/pdf", caption: "le plan", filename: "plan.pdf" }, undefined],
    ["meta-audio", { _tag: "Media", kind: "audio", ref: "3479537139650973", mimeType: "audio/ogg; codecs=opus" }, undefined],
    ["meta-video", { _tag: "Media", kind: "video", ref: "4479537139650973", mimeType: "video/mp4" }, undefined],
    ["meta-location", { _tag: "Location", latitude: 48.8167, longitude: 2.5167, name: "Chantier", address: "Champigny-sur-Marne" }, undefined],
    ["meta-unsupported", { _tag: "Unsupported", type: "unsupported" }, undefined]
  ] as const)("%s", ([name, content, replyTo]) =>
    Effect.gen(function*() {
      const { messages, skipped } = yield* decode(name)
      assert.deepStrictEqual(messages.map((m) => m.content), [content])
      assert.deepStrictEqual(messages.map((m) => m.replyTo), [replyTo])
      assert.strictEqual("replyTo" in messages[0]!, replyTo !== undefined, "no replyTo key without a context id")
      assert.deepStrictEqual(skipped, [])
    }))

  it.effect("statuses are reported, not treated as user messages", () =>
    Effect.gen(function*() {
      const { messages, statuses } = yield* decode("meta-statuses")
      assert.strictEqual(messages.length, 0)
      assert.deepStrictEqual(statuses.map((s) => s.status), ["sent", "delivered", "read", "failed"])
      assert.deepStrictEqual(statuses[3]!.error, { code: "131047", title: "Re-engagement message" })
      assert.strictEqual(statuses[0]!.recipient, "+33612345678")
    }))

  it.effect("several messages in one delivery, from several users", () =>
    Effect.gen(function*() {
      const { messages } = yield* decode("meta-batch")
      assert.deepStrictEqual(messages.map((m) => [m.providerMessageId, m.from]), [
        ["wamid.b1", "+33612345678"],
        ["wamid.b2", "+33612345678"],
        ["wamid.b3", "+447700900123"]
      ])
    }))

  it.effect("one bad item is skipped with its reason; the rest of the delivery goes through", () =>
    Effect.gen(function*() {
      const { messages, statuses, skipped } = yield* decode("meta-mixed-batch")
      assert.deepStrictEqual(messages.map((m) => [m.providerMessageId, m.from, m.profileName]), [
        ["wamid.ok1", "+33612345678", "Karim"],
        ["wamid.fwd", "+33612345678", "Karim"],
        ["wamid.ok2", "+447700900123", "Sarah"]
      ])
      assert.isFalse("replyTo" in messages[1]!, "a forwarded message's context has no id: no replyTo")
      assert.deepStrictEqual(statuses.map((s) => [s.providerMessageId, s.status, s.error?.code]), [
        ["wamid.out1", "delivered", undefined],
        ["wamid.out4", "failed", "131047"]
      ])
      assert.deepStrictEqual(skipped.map((s) => [s instanceof SkippedItem, s.provider, s.item, s.id]), [
        [true, "meta", "message", "wamid.badsender"],
        [true, "meta", "message", "wamid.badtime"],
        [true, "meta", "message", undefined],
        [true, "meta", "status", "wamid.out2"],
        [true, "meta", "status", "wamid.out3"],
        [true, "meta", "status", "wamid.out5"],
        [true, "meta", "entry", "broken-entry"],
        [true, "meta", "change", undefined]
      ])
      assert.notInclude(skipped.map((s) => s.reason).join(" "), "abc", "phone fields are named, never echoed into logs")
      assert.match(skipped[0]!.reason, /the sender \(from\) is not a phone number/)
      assert.match(skipped[1]!.reason, /timestamp "1e20" is not a Unix time/)
      assert.match(skipped[2]!.reason, /not a Cloud API message/)
      assert.match(skipped[3]!.reason, /status "deleted" is not one of sent, delivered, read, failed/)
      assert.match(skipped[4]!.reason, /recipient_id is no phone number/)
    }))

  it.effect("a timestamp that is no Unix time in seconds is skipped, never read as 0 nor a defect", () =>
    Effect.gen(function*() {
      for (const timestamp of ["", " ", "1e20", "-1", "1.5", "0x10", "99999999999999999999"]) {
        const bytes = new TextEncoder().encode(JSON.stringify(metaWebhookPayload({
          from: PhoneNumber.make("+33612345678"),
          id: "wamid.t",
          message: { type: "text", text: { body: "hi" }, timestamp }
        })))
        const { messages, skipped } = yield* webhook.verifyAndDecode(bytes, sign(bytes))
        assert.deepStrictEqual([messages.length, skipped.map((s) => s.item)], [0, ["message"]], timestamp)
      }
    }))

  it.effect("a skipped item's reason never carries a full phone number (it is logged)", () =>
    Effect.gen(function*() {
      const bytes = new TextEncoder().encode(JSON.stringify(metaWebhookPayload({
        from: PhoneNumber.make("+33612345678"),
        id: "wamid.n",
        message: { type: "text", text: { body: "hi" }, from: 33612345678 }
      })))
      const { skipped } = yield* webhook.verifyAndDecode(bytes, sign(bytes))
      assert.deepStrictEqual(skipped.map((s) => [s.item, s.id]), [["message", "wamid.n"]])
      assert.notInclude(skipped[0]!.reason, "33612345678")
      // Whatever a reason quotes, a run of digits long enough to be a number is masked.
      assert.strictEqual(skippedItem("meta", "message", "got +33612345678 and 447700900123").reason, "got +33•••••••78 and +44••••••••23")
    }))

  it.effect("only a body that is no WhatsApp Business webhook at all is a typed decode error", () =>
    Effect.gen(function*() {
      for (const body of [
        new TextEncoder().encode('{"object":"page","entry":[]}'),
        new TextEncoder().encode("not json"),
        new TextEncoder().encode('{"object":"whatsapp_business_account"}'),
        new TextEncoder().encode('{"object":"whatsapp_business_account","entry":{}}'),
        new TextEncoder().encode("[]"),
        Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])
      ]) {
        const error = yield* Effect.flip(webhook.verifyAndDecode(body, sign(body)))
        assert.strictEqual(error._tag, "WebhookDecodeError")
      }
    }))
})

// Each fixture is the syntax example of a page of Meta's webhook reference, placeholders filled in
// (the list, with the pages, is in the package README under "Fixtures").
describe("Meta Cloud API webhook: usernames (BSUID), reactions, edits, deletions, notices, groups, errors", () => {
  it.effect("a username user without a phone number: the BSUID is the sender's address and id", () =>
    Effect.gen(function*() {
      const { messages, skipped } = yield* decode("meta-bsuid-text")
      assert.deepStrictEqual(skipped, [])
      assert.deepStrictEqual(messages.map((m) => [m.from, m.userId, m.profileName, m.content]), [
        ["FR.13491208655302741918", "FR.13491208655302741918", "Karim", { _tag: "Text", body: "Bonjour" }]
      ])
    }))

  it.effect("a message with both: the phone number is the address, the BSUID is kept", () =>
    Effect.gen(function*() {
      const { messages } = yield* decode("meta-bsuid-with-phone")
      assert.deepStrictEqual(messages.map((m): ReadonlyArray<string | undefined> => [m.from, m.userId]), [["+33612345678", "FR.13491208655302741918"]])
    }))

  it.effect("statuses without recipient_id decode to the BSUID; a failed one keeps its error", () =>
    Effect.gen(function*() {
      const { statuses, skipped } = yield* decode("meta-bsuid-statuses")
      assert.deepStrictEqual(skipped, [])
      assert.deepStrictEqual(statuses.map((s) => [s.providerMessageId, s.status, s.recipient, s.error?.code]), [
        ["wamid.out.b1", "delivered", "FR.13491208655302741918", undefined],
        ["wamid.out.b2", "read", "+33612345678", undefined],
        ["wamid.out.b3", "failed", "+33612345678", "131026"]
      ])
    }))

  it.effect("a reaction and its removal name the message they are on (our reply: its session is carried)", () =>
    Effect.gen(function*() {
      const { messages } = yield* decode("meta-reaction")
      assert.deepStrictEqual(messages.map((m) => [m.content, m.replyTo]), [
        [{ _tag: "Reaction", messageId: "wamid.ourReply", emoji: "👍" }, "wamid.ourReply"],
        [{ _tag: "Reaction", messageId: "wamid.ourReply" }, "wamid.ourReply"]
      ])
    }))

  it.effect.each([
    ["meta-revoke", [{ _tag: "Deleted", messageId: "wamid.userSaid" }]],
    ["meta-edit", [
      { _tag: "Edited", messageId: "wamid.userSaid", content: { _tag: "Text", body: "Voir mes chantiers" } },
      { _tag: "Edited", messageId: "wamid.userPhoto", content: { _tag: "Media", kind: "image", ref: "1479537139650973", mimeType: "image/jpeg", caption: "fuite au R+3" } }
    ]],
    ["meta-system", [
      { _tag: "SystemNotice", kind: "user_changed_number", body: "User Karim changed from 33612345678 to 33699887766", newPhone: "+33699887766" },
      { _tag: "SystemNotice", kind: "user_changed_user_id", body: "User Karim changed their user ID", newUserId: "FR.99991208655302741918" }
    ]],
    ["meta-contacts", [{ _tag: "Contacts", contacts: [{ name: "Paul Plombier", phones: ["+33 6 11 22 33 44"], emails: ["plombier@example.com"] }] }]],
    ["meta-order", [{
      _tag: "Order",
      catalogId: "194836987003835",
      text: "pour lundi",
      items: [{ productId: "ciment-25kg", quantity: 4, price: 7.5, currency: "EUR" }, { productId: "sable-35kg", quantity: 2, price: 4.2, currency: "EUR" }]
    }]]
  ] as const)("%s decodes to what it means", ([name, contents]) =>
    Effect.gen(function*() {
      const { messages, skipped } = yield* decode(name)
      assert.deepStrictEqual(skipped, [])
      assert.deepStrictEqual<unknown>(messages.map((m) => m.content), contents)
      assert.isTrue(messages.every((m) => !("replyTo" in m)), "only reactions and context ids carry a session")
    }))

  it.effect("an edit to a kind we do not read is still an edit (recorded, never answered as unreadable)", () =>
    Effect.gen(function*() {
      const payload = JSON.parse(fixture("meta-edit").toString())
      payload.entry[0].changes[0].value.messages = [{ ...payload.entry[0].changes[0].value.messages[0], edit: { original_message_id: "wamid.userSaid", message: { type: "poll" } } }]
      const bytes = new TextEncoder().encode(JSON.stringify(payload))
      const { messages } = yield* webhook.verifyAndDecode(bytes, sign(bytes))
      assert.deepStrictEqual(messages.map((m) => m.content), [{ _tag: "Edited", messageId: "wamid.userSaid" }])
    }))

  it.effect("a group message carries its group", () =>
    Effect.gen(function*() {
      const { messages } = yield* decode("meta-group")
      assert.deepStrictEqual(messages.map((m) => [m.from, m.group, m.content]), [["+33612345678", "120363025246125486", { _tag: "Text", body: "Bonjour à tous" }]])
    }))

  it.effect("value-level errors are provider errors, neither messages nor statuses", () =>
    Effect.gen(function*() {
      const { messages, statuses, skipped, errors } = yield* decode("meta-errors")
      assert.deepStrictEqual([messages.length, statuses.length, skipped.length], [0, 0, 0])
      assert.deepStrictEqual(errors.map((e) => [e.provider, e.code, e.title, e.details]), [
        ["meta", "130429", "Rate limit hit", "Cloud API message throughput has been reached."],
        ["meta", "131000", "Something went wrong", "Message failed to send due to an unknown error."]
      ])
    }))

  it.effect("a sender with neither from nor from_user_id, or a malformed BSUID, is skipped with its reason", () =>
    Effect.gen(function*() {
      const payload = JSON.parse(fixture("meta-bsuid-text").toString())
      const messages = payload.entry[0].changes[0].value.messages
      messages.push({ ...messages[0], id: "wamid.nobody", from_user_id: undefined }, { ...messages[0], id: "wamid.badid", from_user_id: "not a bsuid" })
      const bytes = new TextEncoder().encode(JSON.stringify(payload))
      const { messages: decoded, skipped } = yield* webhook.verifyAndDecode(bytes, sign(bytes))
      assert.deepStrictEqual(decoded.map((m) => m.providerMessageId), ["wamid.bsuid1"])
      assert.deepStrictEqual(skipped.map((s) => [s.id, s.reason]), [
        ["wamid.nobody", "no sender: neither from nor from_user_id"],
        ["wamid.badid", "the sender (from_user_id) is not a business-scoped user id"]
      ])
    }))
})

describe("Meta signatures (X-Hub-Signature-256)", () => {
  const body = fixture("meta-text")

  it("the adapter's signature equals an independently computed HMAC-SHA256", () => {
    assert.strictEqual(metaSignature(Redacted.make(secret), body), sign(body))
    // A fixed vector: HMAC-SHA256("meta-app-secret-for-tests", "{}").
    assert.strictEqual(metaSignature(Redacted.make(secret), new TextEncoder().encode("{}")), `sha256=${createHmac("sha256", secret).update("{}").digest("hex")}`)
  })

  it.effect.each([
    ["missing header", body, undefined, "missing"],
    ["malformed header", body, "sha1=abc", "malformed"],
    ["wrong secret", body, sign(body, "another-secret"), "mismatch"],
    ["tampered body", Buffer.from(body.toString().replace("Bonjour", "Bonsoir")), sign(body), "mismatch"],
    ["same JSON, other whitespace (signatures cover raw bytes)", Buffer.from(JSON.stringify(JSON.parse(body.toString()))), sign(body), "mismatch"]
  ] as const)("rejects: %s", ([, bytes, header, reason]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(webhook.verifyAndDecode(bytes, header))
      assert.strictEqual(error._tag, "SignatureError")
      assert.strictEqual(error._tag === "SignatureError" ? error.reason : "", reason)
    }))
})

describe("Meta verification handshake", () => {
  it.effect("echoes the challenge for the right token, refuses otherwise", () =>
    Effect.gen(function*() {
      const ok = yield* webhook.verifyHandshake(new URLSearchParams({ "hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444" }))
      assert.strictEqual(ok, "1158201444")
      for (const query of [
        { "hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1" },
        { "hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1" },
        { "hub.mode": "subscribe", "hub.verify_token": "verify-me" }
      ]) {
        const error = yield* Effect.flip(webhook.verifyHandshake(new URLSearchParams(query)))
        assert.strictEqual(error._tag, "VerificationFailed")
      }
    }))
})

const fuzzRuns = 400

// Payload-shaped values reach every branch of the decoder: a well-formed item of every kind Meta sends,
// then up to two of its fields replaced by something odd (a junk value or a plausible wrong one).
const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined))
const phoneish = fc.oneof(fc.stringMatching(/^[1-9]\d{7,12}$/), fc.constantFrom("", "abc", "+33612345678", "0033612345678", "33 6 12 34 56 78", "1"), fc.string(), junk)
const timestampish = fc.oneof(
  fc.integer({ min: 0, max: 2_000_000_000 }).map(String),
  fc.constantFrom("", " ", "1e20", "-1", "1.5", "0x10", "99999999999999999999", "NaN", "Infinity"),
  fc.string(),
  junk
)
const idish = fc.oneof(fc.string({ minLength: 1 }).map((s) => `wamid.${s}`), fc.constant(""), fc.string(), junk)
const context = fc.oneof(
  fc.record({ from: phoneish, id: idish, forwarded: fc.boolean(), frequently_forwarded: fc.boolean(), referred_product: junk }, { requiredKeys: [] }),
  junk
)
const mediaObject = fc.record({ id: fc.string(), mime_type: fc.string(), caption: fc.string(), filename: fc.string(), sha256: fc.string(), voice: fc.boolean() }, { requiredKeys: ["id"] })
const messageContent = fc.oneof(
  fc.record({ type: fc.constant("text"), text: fc.record({ body: fc.string() }) }),
  fc.record({ type: fc.constant("interactive"), interactive: fc.record({ type: fc.constant("button_reply"), button_reply: fc.record({ id: fc.string(), title: fc.string() }) }) }),
  fc.record({
    type: fc.constant("interactive"),
    interactive: fc.record({ type: fc.constant("list_reply"), list_reply: fc.record({ id: fc.string(), title: fc.string(), description: fc.string() }, { requiredKeys: ["id", "title"] }) })
  }),
  fc.record({ type: fc.constant("interactive"), interactive: fc.record({ type: fc.constantFrom("nfm_reply", "weird"), nfm_reply: junk }) }),
  fc.record({ type: fc.constant("button"), button: fc.record({ payload: fc.string(), text: fc.string() }) }),
  fc.constantFrom("image", "document", "audio", "video", "sticker").chain((kind) => mediaObject.map((m) => ({ type: kind, [kind]: m }))),
  fc.record({ type: fc.constant("location"), location: fc.record({ latitude: fc.double({ noNaN: true, noDefaultInfinity: true }), longitude: fc.double({ noNaN: true, noDefaultInfinity: true }), name: fc.string(), address: fc.string() }, { requiredKeys: ["latitude", "longitude"] }) }),
  fc.record({ type: fc.constantFrom("reaction", "order", "system", "unsupported", "contacts", "ephemeral", "revoke", "edit"), errors: junk, reaction: junk }),
  // The shapes of Meta's reaction, revoke, edit, system, contacts and order references, with odd values.
  fc.record({ type: fc.constant("reaction"), reaction: fc.record({ message_id: fc.string(), emoji: fc.string() }, { requiredKeys: ["message_id"] }) }),
  fc.record({ type: fc.constant("revoke"), revoke: fc.record({ original_message_id: fc.string() }) }),
  fc.record({ type: fc.constant("edit"), edit: fc.record({ original_message_id: fc.string(), message: fc.oneof(fc.record({ type: fc.constant("text"), text: fc.record({ body: fc.string() }) }), fc.record({ type: fc.constant("image"), image: mediaObject }), junk) }) }),
  fc.record({ type: fc.constant("system"), system: fc.record({ type: fc.constantFrom("user_changed_number", "user_changed_user_id", "customer_identity_changed"), body: fc.string(), new_wa_id: fc.oneof(fc.stringMatching(/^[1-9]\d{7,12}$/), fc.string()), wa_id: fc.string(), user_id: fc.string(), new_user_id: fc.oneof(fc.stringMatching(/^[A-Z]{2}\.\d{5,20}$/), fc.string()) }, { requiredKeys: [] }) }),
  fc.record({ type: fc.constant("contacts"), contacts: fc.array(fc.record({ name: fc.record({ formatted_name: fc.string() }, { requiredKeys: [] }), phones: fc.array(fc.record({ phone: fc.string(), wa_id: fc.string() }, { requiredKeys: [] })), emails: fc.array(fc.record({ email: fc.string() }, { requiredKeys: [] })) }, { requiredKeys: [] }), { maxLength: 2 }) }),
  fc.record({ type: fc.constant("order"), order: fc.record({ catalog_id: fc.string(), text: fc.string(), product_items: fc.array(fc.record({ product_retailer_id: fc.string(), quantity: fc.oneof(fc.integer(), fc.integer().map(String)), item_price: fc.double({ noNaN: true, noDefaultInfinity: true }), currency: fc.string() }, { requiredKeys: ["product_retailer_id", "quantity"] }), { maxLength: 3 }) }, { requiredKeys: ["catalog_id", "product_items"] }) }),
  fc.record({ type: fc.string() })
)
/** Replaces up to two fields of an otherwise well-formed item. */
const mutated = <T extends Record<string, unknown>>(item: fc.Arbitrary<T>, odd: Record<string, fc.Arbitrary<unknown>>) =>
  fc.tuple(item, fc.array(fc.constantFrom(...Object.keys(odd)), { maxLength: 2 })).chain(([base, keys]) =>
    fc.tuple(...keys.map((key) => odd[key]!)).map((values) => {
      const copy: Record<string, unknown> = { ...base }
      keys.forEach((key, i) => (copy[key] = values[i]))
      return copy
    })
  )
const metaMessage = mutated(
  fc.tuple(fc.stringMatching(/^[1-9]\d{7,12}$/), fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 2_000_000_000 }), fc.option(context, { nil: undefined }), messageContent)
    .map(([from, id, timestamp, ctx, content]) => ({ from, id: `wamid.${id}`, timestamp: String(timestamp), ...(ctx === undefined ? {} : { context: ctx }), ...content })),
  {
    from: phoneish,
    id: idish,
    timestamp: timestampish,
    type: fc.oneof(fc.constantFrom("text", "interactive", "button", "image", "location", "sticker"), junk),
    context,
    text: junk,
    interactive: fc.oneof(fc.record({ type: fc.string(), button_reply: junk, list_reply: junk }, { requiredKeys: [] }), junk),
    button: junk,
    image: fc.oneof(mediaObject, junk),
    document: junk,
    location: fc.oneof(fc.record({ latitude: fc.oneof(fc.double(), junk), longitude: fc.double() }), junk),
    // A username user's message: no `from`, a BSUID (well-formed or not); a group message.
    from_user_id: fc.oneof(fc.stringMatching(/^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,30}$/), fc.string(), junk),
    group_id: fc.oneof(fc.string(), junk)
  }
)
const metaStatus = mutated(
  fc.record({
    id: fc.string({ minLength: 1 }).map((s) => `wamid.${s}`),
    status: fc.constantFrom("sent", "delivered", "read", "failed"),
    timestamp: fc.integer({ min: 0, max: 2_000_000_000 }).map(String),
    recipient_id: fc.stringMatching(/^[1-9]\d{7,12}$/),
    errors: fc.array(fc.record({ code: fc.oneof(fc.integer(), fc.string()), title: fc.string(), message: fc.string(), error_data: fc.record({ details: fc.string() }) }, { requiredKeys: ["code"] }), { maxLength: 2 }),
    conversation: junk,
    pricing: junk
  }, { requiredKeys: ["id", "status", "timestamp", "recipient_id"] }),
  {
    id: idish,
    status: fc.oneof(fc.constantFrom("deleted", "warning", "played", "SENT", ""), fc.string(), junk),
    timestamp: timestampish,
    recipient_id: phoneish,
    errors: fc.oneof(fc.array(junk, { maxLength: 2 }), junk),
    recipient_user_id: fc.oneof(fc.stringMatching(/^[A-Z]{2}\.[A-Za-z0-9]{1,30}$/), fc.string(), junk)
  }
)
const metaError = fc.oneof(
  fc.record({ code: fc.oneof(fc.integer(), fc.string()), title: fc.string(), message: fc.string(), error_data: fc.record({ details: fc.string() }), href: fc.string() }, { requiredKeys: ["code"] }),
  junk
)
const change = fc.record({
  field: fc.constantFrom("messages", "messages", "message_template_status_update"),
  value: fc.record({
    messaging_product: fc.constant("whatsapp"),
    contacts: fc.array(fc.oneof(fc.record({ wa_id: phoneish, profile: fc.oneof(fc.record({ name: fc.string() }), junk) }, { requiredKeys: [] }), junk), { maxLength: 2 }),
    messages: fc.array(metaMessage, { maxLength: 4 }),
    statuses: fc.array(metaStatus, { maxLength: 4 }),
    errors: fc.array(metaError, { maxLength: 2 })
  }, { requiredKeys: ["messages", "statuses", "errors"] })
})
/** Well-formed down to the items, so every item can be accounted for. */
const wellFormed = fc.record({
  object: fc.constant("whatsapp_business_account"),
  entry: fc.array(fc.record({ id: fc.string(), changes: fc.array(change, { maxLength: 3 }) }), { maxLength: 3 })
})
type WellFormed = typeof wellFormed extends fc.Arbitrary<infer T> ? T : never
const itemsIn = (payload: WellFormed) =>
  payload.entry.flatMap((e) => e.changes).filter((c) => c.field === "messages").reduce((n, c) => n + c.value.messages.length + c.value.statuses.length + c.value.errors.length, 0)

const decodeExit = (bytes: Uint8Array) => Effect.runPromiseExit(webhook.verifyAndDecode(bytes, sign(bytes)))
/** The property: a value, or a typed `WebhookDecodeError` — never a defect, never another error. */
const valueOrTypedError = async (bytes: Uint8Array) => {
  const exit = await decodeExit(bytes)
  if (exit._tag === "Success") return exit.value
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined) throw new Error(`a defect for ${Buffer.from(bytes).toString("hex").slice(0, 400)}`)
  if (error.error._tag !== "WebhookDecodeError") throw new Error(`unexpected ${error.error._tag}`)
  return undefined
}
const utf8 = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

describe("Meta decoder fuzz", () => {
  it.effect(`payload-shaped deliveries (every message type, BSUIDs, groups, statuses, error notices, contexts, junk fields): every item is a message, a status or a skipped item (${fuzzRuns} runs)`, () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(wellFormed, async (payload) => {
          const decoded = await valueOrTypedError(utf8(payload))
          if (decoded === undefined) throw new Error("a well-formed envelope must decode")
          const { messages, statuses, skipped, errors } = decoded
          if (messages.length + statuses.length + skipped.length + errors.length !== itemsIn(payload)) throw new Error("an item was lost or counted twice")
          if (!skipped.every((s) => s.item === "message" || s.item === "status" || s.item === "error")) throw new Error("well-formed entries and changes were skipped")
          if (!skipped.every((s) => s.reason.length > 0)) throw new Error("a skipped item without a reason")
        }),
        { numRuns: fuzzRuns }
      )
    ))

  it.effect(`anything else — arbitrary JSON, broken layers, non-JSON and non-UTF-8 bytes — is a value or a typed error (${fuzzRuns} runs)`, () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue().map(utf8),
            fc.record({
              object: fc.oneof(fc.constant("whatsapp_business_account"), junk),
              entry: fc.oneof(fc.array(fc.oneof(fc.record({ id: junk, changes: fc.oneof(fc.array(fc.oneof(change, junk), { maxLength: 2 }), junk) }, { requiredKeys: [] }), junk), { maxLength: 3 }), junk)
            }, { requiredKeys: [] }).map(utf8),
            fc.string().map((s) => new TextEncoder().encode(s)),
            fc.uint8Array({ maxLength: 300 }),
            // A valid delivery with one byte that breaks UTF-8 or JSON somewhere in it.
            fc.tuple(wellFormed, fc.nat(), fc.constantFrom(0xff, 0xfe, 0xc3, 0x80, 0xed, 0x00, 0x22)).map(([payload, at, byte]) => {
              const bytes = utf8(payload)
              const copy = new Uint8Array(bytes.length + 1)
              const i = at % (bytes.length + 1)
              copy.set(bytes.subarray(0, i), 0)
              copy[i] = byte
              copy.set(bytes.subarray(i), i + 1)
              return copy
            })
          ),
          async (bytes) => void (await valueOrTypedError(bytes))
        ),
        { numRuns: fuzzRuns }
      )
    ))
})
