import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createHmac } from "node:crypto"
import { readFileSync } from "node:fs"
import * as fc from "fast-check"
import { TwilioWebhook, twilioSignature } from "@parley/adapters-whatsapp"

const token = "twilio-auth-token"
const publicBaseUrl = "https://parley.example.com"
const webhook = TwilioWebhook.make({ authToken: Redacted.make(token), publicBaseUrl })
const path = "/webhooks/twilio"
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}.form`, import.meta.url))
/** Independent implementation of Twilio's documented algorithm, for the tests. */
const sign = (body: Uint8Array, url = publicBaseUrl + path, key = token) => {
  const params = [...new URLSearchParams(body.toString())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return createHmac("sha1", key).update(url + params.map(([k, v]) => k + v).join("")).digest("base64")
}
const decode = (name: string) => webhook.verifyAndDecode(fixture(name), path, sign(fixture(name)), 1_000)

describe("Twilio signatures (X-Twilio-Signature)", () => {
  it("matches Twilio's documented example vector", () => {
    const params = [["CallSid", "CA1234567890ABCDE"], ["Caller", "+14158675309"], ["Digits", "1234"], ["From", "+14158675309"], ["To", "+18005551212"]] as const
    assert.strictEqual(twilioSignature(Redacted.make("12345"), "https://mycompany.com/myapp.php?foo=1&bar=2", params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
  })

  it.effect.each([
    ["missing header", fixture("twilio-text"), path, undefined, "missing"],
    ["wrong token", fixture("twilio-text"), path, sign(fixture("twilio-text"), publicBaseUrl + path, "other"), "mismatch"],
    ["tampered body", Buffer.from(fixture("twilio-text").toString().replace("Bonjour", "Bonsoir")), path, sign(fixture("twilio-text")), "mismatch"],
    ["another URL (not behind the configured public base)", fixture("twilio-text"), "/webhooks/twilio?x=1", sign(fixture("twilio-text")), "mismatch"]
  ] as const)("rejects: %s", ([, body, p, header, reason]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(webhook.verifyAndDecode(body, p, header, 0))
      assert.strictEqual(error._tag, "SignatureError")
      assert.strictEqual(error._tag === "SignatureError" ? error.reason : "", reason)
    }))

  it.effect("the same fields in another order still verify (the algorithm sorts them)", () =>
    Effect.gen(function*() {
      const shuffled = Buffer.from([...new URLSearchParams(fixture("twilio-text").toString())].reverse().map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&"))
      const { messages } = yield* webhook.verifyAndDecode(shuffled, path, sign(fixture("twilio-text")), 0)
      assert.strictEqual(messages.length, 1)
    }))
})

describe("Twilio webhook: decoding every fixture", () => {
  it.effect("text, with the WhatsApp sender normalised to E.164", () =>
    Effect.gen(function*() {
      const { messages } = yield* decode("twilio-text")
      assert.deepStrictEqual(messages.map((m) => [m.provider, m.providerMessageId, m.from, m.profileName, m.content]), [
        ["twilio", "SM1", "+33612345678", "Karim", { _tag: "Text", body: "Bonjour" }]
      ])
    }))

  it.effect.each([
    ["twilio-button", { _tag: "ButtonReply", id: "menu_view_sites", title: "Voir mes chantiers" }],
    ["twilio-media", { _tag: "Media", kind: "image", ref: "https://api.twilio.com/2010-04-01/Accounts/ACxxx/Messages/SM3/Media/ME1", mimeType: "image/jpeg", caption: "fuite" }],
    ["twilio-location", { _tag: "Location", latitude: 48.8167, longitude: 2.5167, name: "Chantier", address: "Champigny-sur-Marne" }]
  ] as const)("%s", ([name, content]) =>
    Effect.gen(function*() {
      const { messages } = yield* decode(name)
      assert.deepStrictEqual(messages.map((m) => m.content), [content])
    }))

  it.effect("a status callback is a delivery status, not a message", () =>
    Effect.gen(function*() {
      const { messages, statuses } = yield* decode("twilio-status")
      assert.strictEqual(messages.length, 0)
      assert.deepStrictEqual(statuses.map((s) => [s.status, s.recipient, s.error?.code]), [["failed", "+33612345678", "63016"]])
    }))
})

const fuzzRuns = 400

describe("Twilio decoder fuzz", () => {
  it.effect(`arbitrary signed form bodies never crash: a value or a typed error (${fuzzRuns} runs)`, () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.dictionary(
            fc.oneof(fc.constantFrom("From", "Body", "MessageSid", "NumMedia", "MediaUrl0", "MediaContentType0", "ButtonPayload", "Latitude", "Longitude", "MessageStatus", "To"), fc.string()),
            fc.oneof(fc.string(), fc.constantFrom("whatsapp:+33612345678", "3", "-1", "NaN", "received", "failed"))
          ),
          async (fields) => {
            const body = Buffer.from(new URLSearchParams(fields).toString())
            const exit = await Effect.runPromiseExit(webhook.verifyAndDecode(body, path, sign(body), 0))
            if (exit._tag === "Failure") {
              const error = exit.cause.reasons.find((r) => r._tag === "Fail")
              if (error === undefined) throw new Error(`a defect for ${body}`)
              if (error.error._tag !== "WebhookDecodeError") throw new Error(`unexpected ${error.error._tag}`)
            }
          }
        ),
        { numRuns: fuzzRuns }
      )
    ))
})
