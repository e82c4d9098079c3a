import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createHmac } from "node:crypto"
import { readFileSync } from "node:fs"
import * as fc from "fast-check"
import { TwilioWebhook, twilioSignature, verifyTwilioSignature } from "@parley/adapters-whatsapp"

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

  // Twilio's published vectors: twilio-python tests/unit/test_request_validator.py (auth token "12345") and
  // twilio-node spec/unit/webhooks/webhooks.spec.js (port and single-quote cases, auth token "s3cr3t").
  const vectorUrl = "https://mycompany.com/myapp.php?foo=1&bar=2"
  const vectorParams = [["CallSid", "CA1234567890ABCDE"], ["Digits", "1234"], ["From", "+14158675309"], ["To", "+18005551212"], ["Caller", "+14158675309"]] as const
  const verifies = (url: string, params: ReadonlyArray<readonly [string, string]>, signature: string, token = "12345") =>
    Effect.runSync(Effect.match(verifyTwilioSignature(Redacted.make(token), url, params, signature), { onFailure: () => false, onSuccess: () => true }))

  it("a repeated parameter contributes every value, sorted (twilio-python duplicate vector)", () => {
    const repeated = [["Sid", "CA123"], ["SidAccount", "AC123"], ["Digits", "5678"], ["Digits", "1234"]] as const
    assert.strictEqual(twilioSignature(Redacted.make("12345"), vectorUrl, repeated), "IK+Dwps556ElfBT0I3Rgjkr1wJU=")
    // The same values in another order: the same signature.
    assert.isTrue(verifies(vectorUrl, [["Digits", "1234"], ["Sid", "CA123"], ["Digits", "5678"], ["SidAccount", "AC123"]], "IK+Dwps556ElfBT0I3Rgjkr1wJU="))
  })

  it.each([
    ["a port on an https URL is dropped", vectorUrl.replace(".com", ".com:1234"), "RSOYDt4T1cUTdK1PDd93/VVr8B8="],
    ["a port on an http URL is kept", vectorUrl.replace(".com", ".com:1234").replace("https", "http"), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="],
    ["an https URL signed with :443", vectorUrl, "kvajT1Ptam85bY51eRf/AJRuM3w="],
    ["an http URL signed with :80", vectorUrl.replace("https", "http"), "0ZXoZLH/DfblKGATFgpif+LLRf4="],
    ["the plain vector", vectorUrl, "RSOYDt4T1cUTdK1PDd93/VVr8B8="]
  ] as const)("verifies Twilio's vector: %s", (_, url, signature) => {
    assert.isTrue(verifies(url, vectorParams, signature))
  })

  it.each([
    ["raw quote signed, raw quote received", "https://example.com/path?test=param'WithQuote", "https://example.com/path?test=param'WithQuote"],
    ["raw quote signed, escaped quote received", "https://example.com/path?test=param'WithQuote", "https://example.com/path?test=param%27WithQuote"],
    ["escaped quote signed, raw quote received", "https://example.com/path?test=param%27WithQuote", "https://example.com/path?test=param'WithQuote"],
    ["signed with :443, received without", "https://example.com:443/path?test=param", "https://example.com/path?test=param"],
    ["signed without a port, received with :443", "https://example.com/path?test=param", "https://example.com:443/path?test=param"]
  ] as const)("twilio-node's URL cases verify: %s", (_, signed, received) => {
    assert.isTrue(verifies(received, [], twilioSignature(Redacted.make("s3cr3t"), signed, []), "s3cr3t"))
  })

  it("another query still fails (twilio-node: the signature URL does not match the target URL)", () => {
    const signature = twilioSignature(Redacted.make("s3cr3t"), "https://example.com/path?test=param", [])
    assert.isFalse(verifies("https://example.com/path?test=param2", [], signature, "s3cr3t"))
    assert.isFalse(verifies(vectorUrl, vectorParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321"))
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
    ["twilio-button", { _tag: "ButtonReply", id: "menu_view_sites", title: "Voir mes chantiers" }, "SMb7d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6"],
    ["twilio-media", { _tag: "Media", kind: "image", ref: "https://api.twilio.com/2010-04-01/Accounts/ACxxx/Messages/SM3/Media/ME1", mimeType: "image/jpeg", caption: "fuite" }, undefined],
    ["twilio-location", { _tag: "Location", latitude: 48.8167, longitude: 2.5167, name: "Chantier", address: "Champigny-sur-Marne" }, undefined]
  ] as const)("%s", ([name, content, replyTo]) =>
    Effect.gen(function*() {
      const { messages, skipped } = yield* decode(name)
      assert.deepStrictEqual(messages.map((m) => m.content), [content])
      // OriginalRepliedMessageSid: the SM… of our message the user answered.
      assert.deepStrictEqual(messages.map((m) => m.replyTo), [replyTo])
      assert.deepStrictEqual(skipped, [])
    }))

  it.effect("every media item is kept: one message each, the first with the MessageSid and the caption", () =>
    Effect.gen(function*() {
      const { messages, skipped } = yield* decode("twilio-media-multi")
      const media = "https://api.twilio.com/2010-04-01/Accounts/ACxxx/Messages/SM6/Media"
      assert.deepStrictEqual(messages.map((m) => [m.providerMessageId, m.from, m.profileName, m.content]), [
        ["SM6", "+33612345678", "Karim", { _tag: "Media", kind: "image", ref: `${media}/ME0`, mimeType: "image/jpeg", caption: "les photos du R+2" }],
        ["SM6#1", "+33612345678", "Karim", { _tag: "Media", kind: "document", ref: `${media}/ME1`, mimeType: "application/pdf" }],
        ["SM6#2", "+33612345678", "Karim", { _tag: "Media", kind: "video", ref: `${media}/ME2`, mimeType: "video/mp4" }]
      ])
      assert.deepStrictEqual(skipped, [])
    }))

  const form = (fields: Record<string, string>) => {
    const body = Buffer.from(new URLSearchParams(fields).toString())
    return webhook.verifyAndDecode(body, path, sign(body), 5_000)
  }
  const base = { MessageSid: "SM7", From: "whatsapp:+33612345678", To: "whatsapp:+14155238886" }

  it.effect("a missing media URL is skipped alone; NumMedia is not trusted past Twilio's 10", () =>
    Effect.gen(function*() {
      const gap = yield* form({ ...base, NumMedia: "3", MediaUrl0: "https://m/0", MediaUrl2: "https://m/2", Body: "vu" })
      assert.deepStrictEqual(gap.messages.map((m) => [m.providerMessageId, m.content._tag === "Media" ? [m.content.ref, m.content.caption] : m.content]), [
        ["SM7", ["https://m/0", "vu"]],
        ["SM7#2", ["https://m/2", undefined]]
      ])
      assert.deepStrictEqual(gap.skipped.map((s) => [s.provider, s.item, s.id]), [["twilio", "media", "SM7#1"]])

      const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`MediaUrl${i}`, `https://m/${i}`]))
      const huge = yield* form({ ...base, NumMedia: "999999", ...many })
      assert.strictEqual(huge.messages.length, 10)
      assert.deepStrictEqual(huge.skipped.map((s) => s.item), ["media"])

      const none = yield* form({ ...base, NumMedia: "1", Body: "la photo n'est pas passée" })
      assert.deepStrictEqual(none.messages.map((m) => [m.providerMessageId, m.content]), [["SM7", { _tag: "Text", body: "la photo n'est pas passée" }]])
      assert.deepStrictEqual(none.skipped.map((s) => [s.item, s.id]), [["media", "SM7#0"]])
    }))

  it.effect("an unreadable item is skipped with its reason; only a form without a MessageSid is a decode error", () =>
    Effect.gen(function*() {
      for (const [fields, item, reason] of [
        [{ ...base, From: "whatsapp:abc", Body: "hi" }, "message", /From is not a WhatsApp phone number/],
        [{ ...base, NumMedia: "deux", Body: "hi" }, "message", /NumMedia "deux" is not a count/],
        [{ ...base, Latitude: "north", Longitude: "2.5" }, "message", /are not coordinates/],
        [{ ...base, Latitude: "91", Longitude: "2.5" }, "message", /are not coordinates/],
        [{ MessageSid: "SM8", MessageStatus: "delivered", To: "nobody" }, "status", /To is not a phone number/]
      ] as const) {
        const { messages, statuses, skipped } = yield* form(fields)
        assert.deepStrictEqual([messages.length, statuses.length, skipped.map((s) => s.item)], [0, 0, [item]])
        assert.match(skipped[0]!.reason, reason)
      }
      const error = yield* Effect.flip(form({ From: "whatsapp:+33612345678", Body: "hi" }))
      assert.strictEqual(error._tag, "WebhookDecodeError")
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
            fc.oneof(
              fc.constantFrom("From", "Body", "MessageSid", "NumMedia", "MediaUrl0", "MediaUrl1", "MediaUrl2", "MediaUrl9", "MediaContentType0", "MediaContentType1", "ButtonPayload", "ButtonText", "Latitude", "Longitude", "Label", "MessageStatus", "To", "ErrorCode", "OriginalRepliedMessageSid", "ProfileName"),
              fc.string()
            ),
            fc.oneof(fc.string(), fc.constantFrom("whatsapp:+33612345678", "0", "1", "3", "10", "11", "999999", "1e3", "-1", "NaN", "48.8", "-200", "received", "failed", "undelivered", "queued"))
          ),
          async (fields) => {
            const body = Buffer.from(new URLSearchParams(fields).toString())
            const exit = await Effect.runPromiseExit(webhook.verifyAndDecode(body, path, sign(body), 0))
            if (exit._tag === "Success") {
              const ids = exit.value.messages.map((m) => m.providerMessageId)
              if (new Set(ids).size !== ids.length) throw new Error(`two messages share an id for ${body}`)
              if (exit.value.messages.length > 10) throw new Error(`more than 10 messages for ${body}`)
            } else {
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

describe("Twilio: text Postgres would refuse", () => {
  it.effect("NUL is dropped and a lone surrogate becomes U+FFFD in the body and the profile name; an absurd MessageSid is a skipped item", () =>
    Effect.gen(function*() {
      const form = (sid: string) =>
        Buffer.from(new URLSearchParams({ MessageSid: sid, From: "whatsapp:+33612345678", ProfileName: "Ka\u0000rim \ud83d", Body: "a\u0000b\udc00", NumMedia: "0" }).toString())
      const ok = form("SM0123456789abcdef0123456789abcdef")
      const { messages, skipped } = yield* webhook.verifyAndDecode(ok, path, sign(ok), 1_000)
      assert.deepStrictEqual(skipped, [])
      assert.deepStrictEqual([messages[0]!.profileName, messages[0]!.content], ["Karim \ufffd", { _tag: "Text", body: "ab\ufffd" }])
      const absurd = form(`SM${"0".repeat(8004)}`)
      const decoded = yield* webhook.verifyAndDecode(absurd, path, sign(absurd), 1_000)
      assert.deepStrictEqual(decoded.messages, [])
      assert.deepStrictEqual(decoded.skipped.map((s) => [s.item, s.reason]), [["message", "the message id is 8006 characters long (at most 256)"]])
    }))
})
