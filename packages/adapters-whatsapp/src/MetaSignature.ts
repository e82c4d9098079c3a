import { createHmac } from "node:crypto"
import { Effect, Redacted } from "effect"
import { constantTimeEqual } from "./constantTime.ts"
import { SignatureError } from "./WebhookErrors.ts"

/** `sha256=` + hex HMAC-SHA256 of the exact bytes received, keyed with the app secret. */
export const metaSignature = (appSecret: Redacted.Redacted<string>, rawBody: Uint8Array): string =>
  `sha256=${createHmac("sha256", Redacted.value(appSecret)).update(rawBody).digest("hex")}`

/** Checks `X-Hub-Signature-256` against the raw body (never a re-serialised one). */
export const verifyMetaSignature = (appSecret: Redacted.Redacted<string>, rawBody: Uint8Array, header: string | undefined) =>
  Effect.suspend(() => {
    if (header === undefined || header === "") return Effect.fail(new SignatureError({ provider: "meta", reason: "missing" }))
    if (!/^sha256=[0-9a-f]{64}$/i.test(header)) return Effect.fail(new SignatureError({ provider: "meta", reason: "malformed" }))
    return constantTimeEqual(header.toLowerCase(), metaSignature(appSecret, rawBody))
      ? Effect.void
      : Effect.fail(new SignatureError({ provider: "meta", reason: "mismatch" }))
  })
