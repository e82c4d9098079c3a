import { DeliveryStatus, InboundMessage, type MessageContent } from "@parley/core"
import { Effect, Option, Result, Schema } from "effect"
import type { Decoded } from "./Decoded.ts"
import { normalizePhone } from "./normalizePhone.ts"
import { skipped, type SkippedItem } from "./SkippedItem.ts"
import { WebhookDecodeError } from "./WebhookErrors.ts"

/** Twilio's documented maximum of media items on one message; `NumMedia` beyond it is not trusted to size a loop. */
export const twilioMaxMedia = 10

// The core's classes check what we build: a value that slips past the checks here is skipped, never a defect.
const toMessage = Schema.decodeUnknownResult(InboundMessage)
const toStatus = Schema.decodeUnknownResult(DeliveryStatus)

const mediaKind = (contentType: string | undefined): "image" | "document" | "audio" | "video" => {
  const top = contentType?.split("/")[0]
  return top === "image" || top === "audio" || top === "video" ? top : "document"
}

const statusOf = (s: string): DeliveryStatus["status"] | undefined =>
  s === "sent" || s === "delivered" || s === "read" ? s : s === "failed" || s === "undelivered" ? "failed" : undefined

const decimal = /^-?\d{1,3}(\.\d+)?$/

// Reasons name the field, never echo a phone number: they end up in logs, which never carry a full number.
const schemaReason = (what: string, error: { readonly message: string }) => `${what}: ${error.message.replace(/\s+/g, " ")}`

/**
 * Twilio's form fields → messages or a delivery status (Twilio's "WhatsApp
 * webhooks" and "status callback" parameters). Only a form without a
 * `MessageSid` is no Twilio webhook and fails; a sender that is no phone
 * number, unreadable coordinates or a missing media URL are `SkippedItem`s.
 *
 * Each media item (`MediaUrl0`…`MediaUrl{NumMedia-1}`) becomes its own
 * message so none is dropped: the first readable one keeps the `MessageSid` as its id and
 * the `Body` as its caption, the others are `{MessageSid}#{i}` so deduplication
 * stays per item across redeliveries. `OriginalRepliedMessageSid` is `replyTo`.
 */
export const fromTwilioForm = (form: URLSearchParams, now: number): Effect.Effect<Decoded, WebhookDecodeError> =>
  Effect.suspend(() => {
    const field = (name: string) => {
      const v = form.get(name)
      return v === null || v === "" ? undefined : v
    }
    const sid = field("MessageSid") ?? field("SmsMessageSid")
    if (sid === undefined) return Effect.fail(new WebhookDecodeError({ provider: "twilio", reason: "no MessageSid: not a Twilio webhook" }))
    const skips: Array<SkippedItem> = []
    const skip = (item: SkippedItem["item"], reason: string, id: string) => void skips.push(skipped("twilio", item, reason, id))

    const status = field("MessageStatus")
    if (status !== undefined && status !== "received") {
      const mapped = statusOf(status)
      // queued, accepted, sending…: steps before a report worth making, not unreadable items.
      if (mapped === undefined) return Effect.succeed({ messages: [], statuses: [], skipped: [], errors: [] })
      const recipient = normalizePhone(field("To") ?? "")
      if (Option.isNone(recipient)) {
        skip("status", "To is not a phone number", sid)
        return Effect.succeed({ messages: [], statuses: [], skipped: skips, errors: [] })
      }
      const code = field("ErrorCode")
      const decoded = toStatus({
        provider: "twilio",
        providerMessageId: sid,
        recipient: recipient.value,
        status: mapped,
        at: now,
        ...(code === undefined ? {} : { error: { code, title: field("ErrorMessage") ?? "" } })
      })
      if (Result.isFailure(decoded)) skip("status", schemaReason("not a delivery status", decoded.failure), sid)
      return Effect.succeed({ messages: [], statuses: Result.isSuccess(decoded) ? [decoded.success] : [], skipped: skips, errors: [] })
    }

    const from = normalizePhone(field("From") ?? "")
    if (Option.isNone(from)) {
      skip("message", "From is not a WhatsApp phone number", sid)
      return Effect.succeed({ messages: [], statuses: [], skipped: skips, errors: [] })
    }
    const profileName = field("ProfileName")
    const replyTo = field("OriginalRepliedMessageSid")
    const common = {
      provider: "twilio",
      from: from.value,
      ...(profileName === undefined ? {} : { profileName }),
      sentAt: now,
      ...(replyTo === undefined ? {} : { replyTo })
    }
    const done = (contents: ReadonlyArray<readonly [string, MessageContent]>): Effect.Effect<Decoded> => {
      const messages: Array<InboundMessage> = []
      for (const [id, content] of contents) {
        const decoded = toMessage({ ...common, providerMessageId: id, content })
        if (Result.isFailure(decoded)) skip("message", schemaReason("not an inbound message", decoded.failure), id)
        else messages.push(decoded.success)
      }
      return Effect.succeed({ messages, statuses: [], skipped: skips, errors: [] })
    }

    const body = field("Body")
    const buttonPayload = field("ButtonPayload")
    if (buttonPayload !== undefined) return done([[sid, { _tag: "ButtonReply", id: buttonPayload, title: field("ButtonText") ?? body ?? "" }]])

    const numMediaField = field("NumMedia") ?? "0"
    if (!/^\d{1,6}$/.test(numMediaField)) {
      skip("message", `NumMedia ${JSON.stringify(numMediaField)} is not a count`, sid)
      return Effect.succeed({ messages: [], statuses: [], skipped: skips, errors: [] })
    }
    const numMedia = Number(numMediaField)
    if (numMedia > twilioMaxMedia) skip("media", `NumMedia ${numMedia} is over Twilio's ${twilioMaxMedia}: the items past it are not read`, sid)
    const media: Array<readonly [string, MessageContent]> = []
    for (let i = 0; i < Math.min(numMedia, twilioMaxMedia); i++) {
      const id = media.length === 0 ? sid : `${sid}#${i}`
      const url = field(`MediaUrl${i}`)
      if (url === undefined) {
        skip("media", `NumMedia is ${numMedia} but MediaUrl${i} is missing`, `${sid}#${i}`)
        continue
      }
      const type = field(`MediaContentType${i}`)
      media.push([id, {
        _tag: "Media",
        kind: mediaKind(type),
        ref: url,
        ...(type === undefined ? {} : { mimeType: type }),
        ...(media.length > 0 || body === undefined ? {} : { caption: body })
      }])
    }
    if (media.length > 0) return done(media)

    const latitude = field("Latitude")
    const longitude = field("Longitude")
    if (latitude !== undefined && longitude !== undefined) {
      const lat = Number(latitude)
      const lon = Number(longitude)
      if (!decimal.test(latitude) || !decimal.test(longitude) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
        skip("message", `Latitude/Longitude ${JSON.stringify(latitude)}, ${JSON.stringify(longitude)} are not coordinates`, sid)
        return Effect.succeed({ messages: [], statuses: [], skipped: skips, errors: [] })
      }
      const name = field("Label")
      const address = field("Address")
      return done([[sid, { _tag: "Location", latitude: lat, longitude: lon, ...(name ? { name } : {}), ...(address ? { address } : {}) }]])
    }
    // A media message whose every URL is missing still brings its Body, or at least the fact that the user sent something.
    return done([[sid, body !== undefined ? { _tag: "Text", body } : { _tag: "Unsupported", type: field("MessageType") ?? "unknown" }]])
  })
