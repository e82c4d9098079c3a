import { DeliveryStatus, InboundMessage, type MessageContent } from "@parley/core"
import { Config, Context, Effect, Layer, Option, Redacted, Schema } from "effect"
import type { Decoded } from "./Decoded.ts"
import { type MetaMessage, MetaWebhookPayload } from "./MetaPayload.ts"
import { verifyMetaSignature } from "./MetaSignature.ts"
import { normalizePhone } from "./normalizePhone.ts"
import { constantTimeEqual } from "./constantTime.ts"
import { SignatureError, VerificationFailed, WebhookDecodeError } from "./WebhookErrors.ts"

const decodePayload = Schema.decodeUnknownEffect(Schema.fromJsonString(MetaWebhookPayload))

const contentOf = (m: MetaMessage): MessageContent => {
  const media = (kind: "image" | "document" | "audio" | "video" | "sticker") => {
    const item = m[kind]
    return item === undefined
      ? ({ _tag: "Unsupported", type: m.type } as const)
      : ({
        _tag: "Media",
        kind,
        ref: item.id,
        ...(item.mime_type === undefined ? {} : { mimeType: item.mime_type }),
        ...(item.caption === undefined ? {} : { caption: item.caption }),
        ...(item.filename === undefined ? {} : { filename: item.filename })
      } as const)
  }
  switch (m.type) {
    case "text":
      return m.text ? { _tag: "Text", body: m.text.body } : { _tag: "Unsupported", type: "text" }
    case "interactive": {
      const button = m.interactive?.button_reply
      const row = m.interactive?.list_reply
      if (button) return { _tag: "ButtonReply", id: button.id, title: button.title }
      if (row) return { _tag: "ListReply", id: row.id, title: row.title, ...(row.description === undefined ? {} : { description: row.description }) }
      return { _tag: "Unsupported", type: `interactive/${m.interactive?.type ?? "unknown"}` }
    }
    // A quick-reply button of a template message: its payload plays the role of the id.
    case "button":
      return m.button ? { _tag: "ButtonReply", id: m.button.payload, title: m.button.text } : { _tag: "Unsupported", type: "button" }
    case "image":
    case "document":
    case "audio":
    case "video":
    case "sticker":
      return media(m.type)
    case "location":
      return m.location
        ? {
          _tag: "Location",
          latitude: m.location.latitude,
          longitude: m.location.longitude,
          ...(m.location.name === undefined ? {} : { name: m.location.name }),
          ...(m.location.address === undefined ? {} : { address: m.location.address })
        }
        : { _tag: "Unsupported", type: "location" }
    default:
      return { _tag: "Unsupported", type: m.type }
  }
}

const fail = (reason: string) => Effect.fail(new WebhookDecodeError({ provider: "meta", reason }))

const seconds = (timestamp: string) => {
  const n = Number(timestamp)
  return Number.isFinite(n) && n >= 0 ? Option.some(Math.round(n * 1000)) : Option.none()
}

/** Maps a decoded Cloud API payload to messages and statuses; total: anything else is a typed error with a reason. */
export const fromMetaPayload = (payload: MetaWebhookPayload): Effect.Effect<Decoded, WebhookDecodeError> =>
  Effect.gen(function*() {
    const messages: Array<InboundMessage> = []
    const statuses: Array<DeliveryStatus> = []
    for (const entry of payload.entry) {
      for (const change of entry.changes) {
        if (change.field !== "messages") continue
        const names = new Map((change.value.contacts ?? []).flatMap((c) => (c.profile ? [[c.wa_id, c.profile.name] as const] : [])))
        for (const m of change.value.messages ?? []) {
          const from = normalizePhone(m.from)
          if (Option.isNone(from)) return yield* fail(`message ${m.id}: sender ${JSON.stringify(m.from)} is not a phone number`)
          const sentAt = seconds(m.timestamp)
          if (Option.isNone(sentAt)) return yield* fail(`message ${m.id}: timestamp ${JSON.stringify(m.timestamp)} is not a Unix time`)
          if (m.id === "") return yield* fail("a message has an empty id")
          const profileName = names.get(m.from)
          messages.push(new InboundMessage({
            provider: "meta",
            providerMessageId: m.id,
            from: from.value,
            ...(profileName === undefined ? {} : { profileName }),
            sentAt: sentAt.value,
            content: contentOf(m)
          }))
        }
        for (const s of change.value.statuses ?? []) {
          const recipient = normalizePhone(s.recipient_id)
          const at = seconds(s.timestamp)
          if (Option.isNone(recipient) || Option.isNone(at) || s.id === "") return yield* fail(`status ${s.id}: bad recipient or timestamp`)
          const error = s.errors?.[0]
          statuses.push(new DeliveryStatus({
            provider: "meta",
            providerMessageId: s.id,
            recipient: recipient.value,
            status: s.status,
            at: at.value,
            ...(error === undefined ? {} : { error: { code: String(error.code), title: error.title } })
          }))
        }
      }
    }
    return { messages, statuses }
  })

export interface MetaWebhookConfig {
  readonly appSecret: Redacted.Redacted<string>
  readonly verifyToken: Redacted.Redacted<string>
}

/**
 * The Cloud API webhook: the GET verification handshake, and POST bodies
 * verified against `X-Hub-Signature-256` on their exact bytes before anything
 * is decoded.
 */
export class MetaWebhook extends Context.Service<MetaWebhook, {
  verifyHandshake(query: URLSearchParams): Effect.Effect<string, VerificationFailed>
  verifyAndDecode(rawBody: Uint8Array, signature: string | undefined): Effect.Effect<Decoded, SignatureError | WebhookDecodeError>
}>()("@parley/adapters-whatsapp/MetaWebhook") {
  static readonly make = (config: MetaWebhookConfig) =>
    MetaWebhook.of({
      verifyHandshake: (query) =>
        Effect.suspend(() => {
          const challenge = query.get("hub.challenge")
          if (query.get("hub.mode") !== "subscribe") return Effect.fail(new VerificationFailed({ reason: "hub.mode is not subscribe" }))
          if (!constantTimeEqual(query.get("hub.verify_token") ?? "", Redacted.value(config.verifyToken))) {
            return Effect.fail(new VerificationFailed({ reason: "wrong verify token" }))
          }
          if (challenge === null || challenge === "") return Effect.fail(new VerificationFailed({ reason: "no hub.challenge" }))
          return Effect.succeed(challenge)
        }),
      verifyAndDecode: (rawBody, signature) =>
        verifyMetaSignature(config.appSecret, rawBody, signature).pipe(
          Effect.andThen(Effect.suspend(() => {
            let text: string
            try {
              text = new TextDecoder("utf-8", { fatal: true }).decode(rawBody)
            } catch {
              return fail("the body is not UTF-8")
            }
            return decodePayload(text).pipe(
              Effect.mapError((e) => new WebhookDecodeError({ provider: "meta", reason: e.message.slice(0, 500) })),
              Effect.flatMap(fromMetaPayload)
            )
          }))
        )
    })

  static readonly layer = (config: MetaWebhookConfig) => Layer.succeed(MetaWebhook, MetaWebhook.make(config))

  /** `META_APP_SECRET`, `META_VERIFY_TOKEN`. */
  static readonly layerConfig = Layer.effect(
    MetaWebhook,
    Effect.gen(function*() {
      const appSecret = yield* Config.Redacted("META_APP_SECRET")
      const verifyToken = yield* Config.Redacted("META_VERIFY_TOKEN")
      return MetaWebhook.make({ appSecret, verifyToken })
    })
  )
}
