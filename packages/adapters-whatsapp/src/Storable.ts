import { DeliveryStatus, InboundMessage } from "@parley/core"
import { Result, Schema } from "effect"
import type { Decoded } from "./Decoded.ts"
import { skipped, type SkippedItem } from "./SkippedItem.ts"
import type { WebhookProvider } from "./WebhookErrors.ts"

/**
 * The longest provider id we store. Meta's wamids are about 60 characters and
 * Twilio's SIDs 34; Postgres refuses an index entry over ~2,700 bytes (54000),
 * and a refused insert would fail the whole delivery with a 503, redelivered for days.
 */
export const maxProviderIdLength = 256

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * Text Postgres will store: `jsonb` and `text` refuse NUL (22P05), and `jsonb`
 * refuses the `\ud800` escape `JSON.stringify` writes for a lone surrogate.
 * NUL carries nothing a reader sees, so it is dropped; a lone surrogate becomes
 * U+FFFD, as a UTF-8 decoder would show it.
 */
export const storableText = (s: string): string => s.replaceAll("\u0000", "").replace(loneSurrogate, "\uFFFD")

const cleaned = (value: unknown): unknown => {
  if (typeof value === "string") return storableText(value)
  if (Array.isArray(value)) return value.map(cleaned)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cleaned(v)]))
  }
  return value
}

const toMessage = Schema.decodeUnknownResult(InboundMessage)
const toStatus = Schema.decodeUnknownResult(DeliveryStatus)

/**
 * The last step of decoding, shared by every provider: every string of a
 * decoded delivery made storable, and an item whose id no store would index
 * skipped (an absurd `replyTo` is dropped: the message itself is still the user's).
 * What is left can be stored as it is, so the delivery answers 200.
 */
export const storable = (provider: WebhookProvider) => (decoded: Decoded): Decoded => {
  const skips: Array<SkippedItem> = [...decoded.skipped]
  const messages: Array<InboundMessage> = []
  for (const m of decoded.messages) {
    if (m.providerMessageId.length > maxProviderIdLength) {
      skips.push(skipped(provider, "message", `the message id is ${m.providerMessageId.length} characters long (at most ${maxProviderIdLength})`))
      continue
    }
    const { replyTo, ...rest } = m
    const keepReplyTo = replyTo !== undefined && replyTo.length <= maxProviderIdLength
    const message = toMessage(cleaned({ ...rest, ...(keepReplyTo ? { replyTo } : {}) }))
    if (Result.isSuccess(message)) messages.push(message.success)
    else skips.push(skipped(provider, "message", "not storable once cleaned", m.providerMessageId))
  }
  const statuses: Array<DeliveryStatus> = []
  for (const s of decoded.statuses) {
    // A status is only logged, but its id and title are the provider's text all the same.
    const status = s.providerMessageId.length > maxProviderIdLength ? undefined : Result.getOrUndefined(toStatus(cleaned({ ...s })))
    if (status === undefined) skips.push(skipped(provider, "status", "the status id is too long to store"))
    else statuses.push(status)
  }
  return { ...decoded, messages, statuses, skipped: skips }
}
