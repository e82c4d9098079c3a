import { createHmac } from "node:crypto"
import { Effect, Redacted } from "effect"
import { constantTimeEqual } from "./constantTime.ts"
import { SignatureError } from "./WebhookErrors.ts"

/**
 * Twilio's documented algorithm: the full public URL the webhook was sent to,
 * then every POST parameter sorted by name as name + value, HMAC-SHA1 with the
 * auth token, base64. Repeated parameters contribute each value, in order.
 */
export const twilioSignature = (
  authToken: Redacted.Redacted<string>,
  url: string,
  params: ReadonlyArray<readonly [string, string]>
): string => {
  const sorted = [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const data = url + sorted.map(([k, v]) => k + v).join("")
  return createHmac("sha1", Redacted.value(authToken)).update(data, "utf8").digest("base64")
}

export const verifyTwilioSignature = (
  authToken: Redacted.Redacted<string>,
  url: string,
  params: ReadonlyArray<readonly [string, string]>,
  header: string | undefined
) =>
  Effect.suspend(() => {
    if (header === undefined || header === "") return Effect.fail(new SignatureError({ provider: "twilio", reason: "missing" }))
    return constantTimeEqual(header, twilioSignature(authToken, url, params))
      ? Effect.void
      : Effect.fail(new SignatureError({ provider: "twilio", reason: "mismatch" }))
  })
