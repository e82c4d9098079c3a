import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createHmac } from "node:crypto"
import { readFileSync } from "node:fs"
import * as fc from "fast-check"
import { MetaWebhook, metaSignature } from "@parley/adapters-whatsapp"

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

  it.effect.each([
    ["meta-button-reply", { _tag: "ButtonReply", id: "menu_view_sites", title: "Voir mes chantiers" }],
    ["meta-list-reply", { _tag: "ListReply", id: "option_1", title: "Champigny", description: "12 rue de Bernaü" }],
    ["meta-template-button", { _tag: "ButtonReply", id: "menu_talk", title: "Parler à quelqu'un" }],
    ["meta-image", { _tag: "Media", kind: "image", ref: "1479537139650973", mimeType: "image/jpeg", caption: "fuite au R+2" }],
    ["meta-document", { _tag: "Media", kind: "document", ref: "2479537139650973", mimeType: "application/pdf", caption: "le plan", filename: "plan.pdf" }],
    ["meta-audio", { _tag: "Media", kind: "audio", ref: "3479537139650973", mimeType: "audio/ogg; codecs=opus" }],
    ["meta-video", { _tag: "Media", kind: "video", ref: "4479537139650973", mimeType: "video/mp4" }],
    ["meta-location", { _tag: "Location", latitude: 48.8167, longitude: 2.5167, name: "Chantier", address: "Champigny-sur-Marne" }],
    ["meta-unsupported", { _tag: "Unsupported", type: "reaction" }]
  ] as const)("%s", ([name, content]) =>
    Effect.gen(function*() {
      const { messages } = yield* decode(name)
      assert.deepStrictEqual(messages.map((m) => m.content), [content])
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

  it.effect("a signed body that is not a Cloud API payload is a typed decode error", () =>
    Effect.gen(function*() {
      for (const body of ['{"object":"page","entry":[]}', "not json", '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"from":"abc","id":"x","timestamp":"1","type":"text","text":{"body":"hi"}}]}}]}]}']) {
        const bytes = new TextEncoder().encode(body)
        const error = yield* Effect.flip(webhook.verifyAndDecode(bytes, sign(bytes)))
        assert.strictEqual(error._tag, "WebhookDecodeError")
      }
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

describe("Meta decoder fuzz", () => {
  it.effect(`arbitrary signed JSON never crashes: a value or a typed error (${fuzzRuns} runs)`, () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.json(),
            // Payload-shaped values reach deeper into the decoder.
            fc.record({
              object: fc.constantFrom("whatsapp_business_account", "page"),
              entry: fc.array(fc.record({ id: fc.string(), changes: fc.array(fc.record({ field: fc.constantFrom("messages", "x"), value: fc.record({ messages: fc.array(fc.record({ from: fc.oneof(fc.string(), fc.stringMatching(/^[1-9]\d{7,12}$/)), id: fc.string(), timestamp: fc.oneof(fc.string(), fc.nat().map(String)), type: fc.constantFrom("text", "interactive", "image", "location", "button", "weird"), text: fc.record({ body: fc.string() }) }, { requiredKeys: ["from", "id", "timestamp", "type"] })) }) })) }))
            }).map((v) => JSON.stringify(v))
          ),
          async (json) => {
            const bytes = new TextEncoder().encode(json)
            const exit = await Effect.runPromiseExit(webhook.verifyAndDecode(bytes, sign(bytes)))
            if (exit._tag === "Failure") {
              const error = exit.cause.reasons.find((r) => r._tag === "Fail")
              if (error === undefined) throw new Error(`a defect for ${json}`)
              if (error.error._tag !== "WebhookDecodeError") throw new Error(`unexpected ${error.error._tag}`)
            }
          }
        ),
        { numRuns: fuzzRuns }
      )
    ))
})
