import { createHmac } from "node:crypto"
import { Effect, Redacted } from "effect"
import { constantTimeEqual } from "./constantTime.ts"
import { SignatureError } from "./WebhookErrors.ts"

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Twilio's reference algorithm (twilio-python's and twilio-node's
 * `RequestValidator`): the full URL the webhook was sent to, then every POST
 * parameter name in sorted order followed by its value — a repeated name
 * contributes each of its values, sorted, so the order they arrived in does
 * not matter — HMAC-SHA1 with the auth token, base64.
 */
export const twilioSignature = (
  authToken: Redacted.Redacted<string>,
  url: string,
  params: ReadonlyArray<readonly [string, string]>
): string => {
  const byName = new Map<string, Array<string>>()
  for (const [k, v] of params) byName.set(k, [...(byName.get(k) ?? []), v])
  const data = url + [...byName.keys()].sort(byCodeUnit).map((k) => byName.get(k)!.sort(byCodeUnit).map((v) => k + v).join("")).join("")
  return createHmac("sha1", Redacted.value(authToken)).update(data, "utf8").digest("base64")
}

const defaultPorts: Record<string, string> = { "https:": "443", "http:": "80" }

/**
 * The spellings of one URL Twilio may have signed, as its validators try
 * them (twilio-python's `RequestValidator.validate`): the URL without its port
 * and with it (the scheme's default port when it names none) — a proxy may
 * add or drop `:443` — and the query's `'` raw or as `%27` (twilio-node's
 * tests: Twilio signs the URL as configured, URL parsers escape the quote).
 */
export const twilioUrlCandidates = (url: string): ReadonlyArray<string> => {
  const quoteForms = [url, url.replace(/'/g, "%27"), url.replace(/%27/gi, "'")]
  const portForms = (u: string): ReadonlyArray<string> => {
    const m = /^(https?:)\/\/([^/?#:]+)(?::(\d+))?(.*)$/i.exec(u)
    if (m === null) return [u]
    const [, scheme = "", host = "", port, rest = ""] = m
    return [`${scheme}//${host}${rest}`, `${scheme}//${host}:${port ?? defaultPorts[scheme.toLowerCase()]}${rest}`]
  }
  return [...new Set(quoteForms.flatMap(portForms))]
}

export const verifyTwilioSignature = (
  authToken: Redacted.Redacted<string>,
  url: string,
  params: ReadonlyArray<readonly [string, string]>,
  header: string | undefined
) =>
  Effect.suspend(() => {
    if (header === undefined || header === "") return Effect.fail(new SignatureError({ provider: "twilio", reason: "missing" }))
    // Every candidate is computed and compared, so the time taken does not say which spelling matched.
    const matches = twilioUrlCandidates(url).map((u) => constantTimeEqual(header, twilioSignature(authToken, u, params)))
    return matches.includes(true)
      ? Effect.void
      : Effect.fail(new SignatureError({ provider: "twilio", reason: "mismatch" }))
  })
