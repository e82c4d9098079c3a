import { DeliveryStatus, InboundMessage, type MessageContent } from "@parley/core"
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import type { Decoded } from "./Decoded.ts"
import { normalizePhone } from "./normalizePhone.ts"
import { verifyTwilioSignature } from "./TwilioSignature.ts"
import { SignatureError, WebhookDecodeError } from "./WebhookErrors.ts"

const fail = (reason: string) => Effect.fail(new WebhookDecodeError({ provider: "twilio", reason }))

const mediaKind = (contentType: string | undefined): "image" | "document" | "audio" | "video" => {
  const top = contentType?.split("/")[0]
  return top === "image" || top === "audio" || top === "video" ? top : "document"
}

const statusOf = (s: string): DeliveryStatus["status"] | undefined =>
  s === "sent" || s === "delivered" || s === "read" ? s : s === "failed" || s === "undelivered" ? "failed" : undefined

/** Twilio's form fields → a message or a delivery status; total, a typed error with a reason otherwise. */
export const fromTwilioForm = (form: URLSearchParams, now: number): Effect.Effect<Decoded, WebhookDecodeError> =>
  Effect.gen(function*() {
    const field = (name: string) => {
      const v = form.get(name)
      return v === null || v === "" ? undefined : v
    }
    const sid = field("MessageSid") ?? field("SmsMessageSid")
    if (sid === undefined) return yield* fail("no MessageSid")
    const status = field("MessageStatus")
    if (status !== undefined && status !== "received") {
      const mapped = statusOf(status)
      const recipient = normalizePhone(field("To") ?? "")
      if (mapped === undefined) return { messages: [], statuses: [] } // queued, accepted, sending: nothing to report yet
      if (Option.isNone(recipient)) return yield* fail(`status of ${sid}: To is not a phone number`)
      const code = field("ErrorCode")
      return {
        messages: [],
        statuses: [new DeliveryStatus({
          provider: "twilio",
          providerMessageId: sid,
          recipient: recipient.value,
          status: mapped,
          at: now,
          ...(code === undefined ? {} : { error: { code, title: field("ErrorMessage") ?? "" } })
        })]
      }
    }
    const from = normalizePhone(field("From") ?? "")
    if (Option.isNone(from)) return yield* fail(`From ${JSON.stringify(form.get("From"))} is not a WhatsApp phone number`)
    const numMedia = Number(field("NumMedia") ?? "0")
    if (!Number.isInteger(numMedia) || numMedia < 0) return yield* fail("NumMedia is not a count")
    const body = field("Body")
    const buttonPayload = field("ButtonPayload")
    const latitude = field("Latitude")
    const longitude = field("Longitude")
    let content: MessageContent
    if (buttonPayload !== undefined) {
      content = { _tag: "ButtonReply", id: buttonPayload, title: field("ButtonText") ?? body ?? "" }
    } else if (numMedia > 0) {
      const url = field("MediaUrl0")
      if (url === undefined) return yield* fail("NumMedia > 0 without MediaUrl0")
      const type = field("MediaContentType0")
      content = {
        _tag: "Media",
        kind: mediaKind(type),
        ref: url,
        ...(type === undefined ? {} : { mimeType: type }),
        ...(body === undefined ? {} : { caption: body })
      }
    } else if (latitude !== undefined && longitude !== undefined) {
      const lat = Number(latitude)
      const lon = Number(longitude)
      if (!Number.isFinite(lat) || !Number.isFinite(lon)) return yield* fail("Latitude/Longitude are not numbers")
      const name = field("Label")
      const address = field("Address")
      content = { _tag: "Location", latitude: lat, longitude: lon, ...(name ? { name } : {}), ...(address ? { address } : {}) }
    } else if (body !== undefined) {
      content = { _tag: "Text", body }
    } else {
      content = { _tag: "Unsupported", type: field("MessageType") ?? "unknown" }
    }
    const profileName = field("ProfileName")
    return {
      messages: [new InboundMessage({
        provider: "twilio",
        providerMessageId: sid,
        from: from.value,
        ...(profileName === undefined ? {} : { profileName }),
        sentAt: now,
        content
      })],
      statuses: []
    }
  })

export interface TwilioWebhookConfig {
  readonly authToken: Redacted.Redacted<string>
  /** The public URL Twilio posts to (behind a proxy it differs from what the server sees), without the path. */
  readonly publicBaseUrl: string
}

/** Twilio's WhatsApp webhook: form bodies checked against `X-Twilio-Signature` before decoding. */
export class TwilioWebhook extends Context.Service<TwilioWebhook, {
  /** `pathAndQuery` as received (e.g. `/webhooks/twilio?x=1`); the signed URL is the public base URL + it. */
  verifyAndDecode(
    rawBody: Uint8Array,
    pathAndQuery: string,
    signature: string | undefined,
    now: number
  ): Effect.Effect<Decoded, SignatureError | WebhookDecodeError>
}>()("@parley/adapters-whatsapp/TwilioWebhook") {
  static readonly make = (config: TwilioWebhookConfig) =>
    TwilioWebhook.of({
      verifyAndDecode: (rawBody, pathAndQuery, signature, now) =>
        Effect.suspend(() => {
          const form = new URLSearchParams(new TextDecoder().decode(rawBody))
          const url = config.publicBaseUrl.replace(/\/+$/, "") + pathAndQuery
          return verifyTwilioSignature(config.authToken, url, [...form.entries()], signature).pipe(
            Effect.andThen(fromTwilioForm(form, now))
          )
        })
    })

  static readonly layer = (config: TwilioWebhookConfig) => Layer.succeed(TwilioWebhook, TwilioWebhook.make(config))

  /** `TWILIO_AUTH_TOKEN`, `PUBLIC_BASE_URL`. */
  static readonly layerConfig = Layer.effect(
    TwilioWebhook,
    Effect.gen(function*() {
      const authToken = yield* Config.Redacted("TWILIO_AUTH_TOKEN")
      const publicBaseUrl = yield* Config.String("PUBLIC_BASE_URL")
      return TwilioWebhook.make({ authToken, publicBaseUrl })
    })
  )
}
