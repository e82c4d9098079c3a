import { BusinessScopedUserId, DeliveryStatus, InboundMessage, type MessageContent } from "@parley/core"
import { Effect, Option, Result, Schema } from "effect"
import type { Decoded } from "./Decoded.ts"
import {
  MetaChange,
  MetaChangeValue,
  MetaContact,
  MetaContext,
  MetaEditedMessage,
  MetaEntry,
  MetaError,
  MetaMessage,
  MetaStatus,
  MetaWebhookEnvelope
} from "./MetaPayload.ts"
import { normalizePhone } from "./normalizePhone.ts"
import { ProviderError } from "./ProviderError.ts"
import { skipped, type SkippedItem } from "./SkippedItem.ts"
import { WebhookDecodeError } from "./WebhookErrors.ts"

const readEnvelope = Schema.decodeUnknownResult(Schema.fromJsonString(MetaWebhookEnvelope))
const readEntry = Schema.decodeUnknownResult(MetaEntry)
const readChange = Schema.decodeUnknownResult(MetaChange)
const readValue = Schema.decodeUnknownResult(MetaChangeValue)
const readContact = Schema.decodeUnknownOption(MetaContact)
const readContext = Schema.decodeUnknownOption(MetaContext)
const readMessage = Schema.decodeUnknownResult(MetaMessage)
const readStatus = Schema.decodeUnknownResult(MetaStatus)
const readId = Schema.decodeUnknownOption(Schema.Struct({ id: Schema.String }))
const readError = Schema.decodeUnknownResult(MetaError)
const readEdited = Schema.decodeUnknownOption(MetaEditedMessage)
const readUserId = Schema.decodeUnknownOption(BusinessScopedUserId)
const userIdOf = (raw: string | undefined) => (raw === undefined ? Option.none() : readUserId(raw))
// The core's classes check what we build (E.164, safe integers, non-empty ids): a value that slips past
// the checks above becomes a skipped item instead of a constructor throwing a defect.
const toMessage = Schema.decodeUnknownResult(InboundMessage)
const toStatus = Schema.decodeUnknownResult(DeliveryStatus)

type MediaKind = "image" | "document" | "audio" | "video" | "sticker"
type MediaItem = NonNullable<MetaMessage["image"]>

const mediaContent = (kind: MediaKind, item: MediaItem) => ({
  _tag: "Media",
  kind,
  ref: item.id,
  ...(item.mime_type === undefined ? {} : { mimeType: item.mime_type }),
  ...(item.caption === undefined ? {} : { caption: item.caption }),
  ...(item.filename === undefined ? {} : { filename: item.filename })
} as const)

/** What an edited message now says: a text, or a media with its new caption; another kind is recorded as an edit all the same. */
const editedContent = (edit: NonNullable<MetaMessage["edit"]>): MessageContent => {
  const now = Option.getOrUndefined(readEdited(edit.message))
  if (now?.text !== undefined) return { _tag: "Edited", messageId: edit.original_message_id, content: { _tag: "Text", body: now.text.body } }
  const kind = now?.type === "image" || now?.type === "video" || now?.type === "document" ? now.type : undefined
  const item = kind === undefined ? undefined : now?.[kind]
  return kind !== undefined && item !== undefined
    ? { _tag: "Edited", messageId: edit.original_message_id, content: mediaContent(kind, item) }
    : { _tag: "Edited", messageId: edit.original_message_id }
}

const systemContent = (system: NonNullable<MetaMessage["system"]>): MessageContent => {
  const newPhone = Option.getOrUndefined(normalizePhone(system.new_wa_id ?? system.wa_id ?? ""))
  const newUserId = Option.getOrUndefined(userIdOf(system.new_user_id ?? system.user_id))
  return {
    _tag: "SystemNotice",
    kind: system.type ?? "unknown",
    ...(system.body === undefined ? {} : { body: system.body }),
    ...(newPhone === undefined ? {} : { newPhone }),
    ...(newUserId === undefined ? {} : { newUserId })
  }
}

const contentOf = (m: MetaMessage): MessageContent => {
  const media = (kind: MediaKind) => {
    const item = m[kind]
    return item === undefined ? ({ _tag: "Unsupported", type: m.type } as const) : mediaContent(kind, item)
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
    // No emoji: the user took their reaction back.
    case "reaction":
      return m.reaction
        ? { _tag: "Reaction", messageId: m.reaction.message_id, ...(m.reaction.emoji === undefined || m.reaction.emoji === "" ? {} : { emoji: m.reaction.emoji }) }
        : { _tag: "Unsupported", type: "reaction" }
    case "revoke":
      return m.revoke ? { _tag: "Deleted", messageId: m.revoke.original_message_id } : { _tag: "Unsupported", type: "revoke" }
    case "edit":
      return m.edit ? editedContent(m.edit) : { _tag: "Unsupported", type: "edit" }
    case "system":
      return m.system ? systemContent(m.system) : { _tag: "Unsupported", type: "system" }
    case "contacts":
      return m.contacts
        ? {
          _tag: "Contacts",
          contacts: m.contacts.map((c) => {
            const emails = (c.emails ?? []).flatMap((e) => (e.email === undefined ? [] : [e.email]))
            return {
              name: c.name?.formatted_name ?? c.name?.first_name ?? "",
              phones: (c.phones ?? []).flatMap((p) => (p.phone ?? p.wa_id) === undefined ? [] : [(p.phone ?? p.wa_id)!]),
              ...(emails.length === 0 ? {} : { emails })
            }
          })
        }
        : { _tag: "Unsupported", type: "contacts" }
    case "order":
      return m.order
        ? {
          _tag: "Order",
          catalogId: m.order.catalog_id,
          ...(m.order.text === undefined ? {} : { text: m.order.text }),
          items: m.order.product_items.map((i) => ({
            productId: i.product_retailer_id,
            quantity: i.quantity,
            ...(i.item_price === undefined ? {} : { price: i.item_price }),
            ...(i.currency === undefined ? {} : { currency: i.currency })
          }))
        }
        : { _tag: "Unsupported", type: "order" }
    default:
      return { _tag: "Unsupported", type: m.type }
  }
}

/**
 * Meta's timestamps are Unix seconds as a string of digits. Anything else
 * ("", "1e20", "-1") is refused rather than read as 0 or as a number too big
 * to be an exact integer of milliseconds.
 */
const unixMillis = (timestamp: string): Option.Option<number> =>
  /^\d{1,12}$/.test(timestamp) ? Option.some(Number(timestamp) * 1000) : Option.none()

const reported = new Set(["sent", "delivered", "read", "failed"])

// Reasons name the field, never echo a phone number: they end up in logs, which never carry a full number.
const schemaReason = (what: string, error: { readonly message: string }) => `${what}: ${error.message.replace(/\s+/g, " ")}`

/**
 * Maps a Cloud API envelope to messages and statuses, one item at a time:
 * total, and an unreadable entry, change, message or status is a `SkippedItem`
 * with its reason while the rest of the delivery goes through. Changes of
 * another field than `messages` (template or account updates) are not ours
 * to read and are ignored.
 */
export const fromMetaPayload = (payload: MetaWebhookEnvelope): Decoded => {
  const messages: Array<InboundMessage> = []
  const statuses: Array<DeliveryStatus> = []
  const skips: Array<SkippedItem> = []
  const errors: Array<ProviderError> = []
  const skip = (item: SkippedItem["item"], reason: string, raw?: unknown) =>
    void skips.push(skipped("meta", item, reason, Option.getOrUndefined(readId(raw))?.id))

  for (const rawEntry of payload.entry) {
    const entry = readEntry(rawEntry)
    if (Result.isFailure(entry)) {
      skip("entry", schemaReason("not a webhook entry", entry.failure), rawEntry)
      continue
    }
    for (const rawChange of entry.success.changes) {
      const change = readChange(rawChange)
      if (Result.isFailure(change)) {
        skip("change", schemaReason("not a webhook change", change.failure))
        continue
      }
      if (change.success.field !== "messages") continue
      const value = readValue(change.success.value)
      if (Result.isFailure(value)) {
        skip("change", schemaReason("not a messages change", value.failure))
        continue
      }
      // A contact's profile name, by its phone number (wa_id) and by its BSUID (user_id).
      const names = new Map((value.success.contacts ?? []).flatMap((raw) => {
        const contact = Option.getOrUndefined(readContact(raw))
        const name = contact?.profile?.name
        if (contact === undefined || name === undefined) return []
        return [contact.wa_id, contact.user_id].flatMap((key) => (key === undefined ? [] : [[key, name] as const]))
      }))

      for (const raw of value.success.errors ?? []) {
        const read = readError(raw)
        if (Result.isFailure(read)) {
          skip("error", schemaReason("not a Cloud API error", read.failure))
          continue
        }
        const e = read.success
        const details = e.error_data?.details
        errors.push(new ProviderError({ provider: "meta", code: String(e.code), title: e.title ?? e.message ?? "", ...(details === undefined ? {} : { details }) }))
      }

      for (const raw of value.success.messages ?? []) {
        const read = readMessage(raw)
        if (Result.isFailure(read)) {
          skip("message", schemaReason("not a Cloud API message", read.failure), raw)
          continue
        }
        const m = read.success
        // The phone number when Meta gives it, the BSUID always (from 2026-03-31): either one reaches the user.
        const phone = m.from === undefined ? Option.none() : normalizePhone(m.from)
        if (m.from !== undefined && Option.isNone(phone)) {
          skip("message", "the sender (from) is not a phone number", raw)
          continue
        }
        const userId = userIdOf(m.from_user_id)
        if (m.from_user_id !== undefined && Option.isNone(userId)) {
          skip("message", "the sender (from_user_id) is not a business-scoped user id", raw)
          continue
        }
        const from = Option.orElse(phone, () => userId)
        if (Option.isNone(from)) {
          skip("message", "no sender: neither from nor from_user_id", raw)
          continue
        }
        const sentAt = unixMillis(m.timestamp)
        if (Option.isNone(sentAt)) {
          skip("message", `timestamp ${JSON.stringify(m.timestamp)} is not a Unix time in seconds`, raw)
          continue
        }
        if (m.id === "") {
          skip("message", "the message has an empty id")
          continue
        }
        const profileName = names.get(m.from ?? "") ?? names.get(m.from_user_id ?? "")
        // A reaction names the message it is on: when that is one of our replies, it carries the reply's session.
        const replyTo = m.type === "reaction" ? m.reaction?.message_id : Option.getOrUndefined(readContext(m.context))?.id
        const message = toMessage({
          provider: "meta",
          providerMessageId: m.id,
          from: from.value,
          ...(Option.isSome(userId) ? { userId: userId.value } : {}),
          ...(m.group_id === undefined || m.group_id === "" ? {} : { group: m.group_id }),
          ...(profileName === undefined ? {} : { profileName }),
          sentAt: sentAt.value,
          content: contentOf(m),
          ...(replyTo === undefined || replyTo === "" ? {} : { replyTo })
        })
        if (Result.isFailure(message)) skip("message", schemaReason("not an inbound message", message.failure), raw)
        else messages.push(message.success)
      }

      for (const raw of value.success.statuses ?? []) {
        const read = readStatus(raw)
        if (Result.isFailure(read)) {
          skip("status", schemaReason("not a Cloud API status", read.failure), raw)
          continue
        }
        const s = read.success
        if (!reported.has(s.status)) {
          skip("status", `status ${JSON.stringify(s.status)} is not one of sent, delivered, read, failed`, raw)
          continue
        }
        const recipient = Option.orElse(
          s.recipient_id === undefined ? Option.none() : normalizePhone(s.recipient_id),
          () => userIdOf(s.recipient_user_id ?? s.user_id)
        )
        if (Option.isNone(recipient)) {
          skip("status", "no recipient: recipient_id is no phone number and recipient_user_id no business-scoped user id", raw)
          continue
        }
        const at = unixMillis(s.timestamp)
        if (Option.isNone(at)) {
          skip("status", `timestamp ${JSON.stringify(s.timestamp)} is not a Unix time in seconds`, raw)
          continue
        }
        const error = s.errors?.[0]
        const status = toStatus({
          provider: "meta",
          providerMessageId: s.id,
          recipient: recipient.value,
          status: s.status,
          at: at.value,
          ...(error === undefined ? {} : { error: { code: String(error.code), title: error.title ?? error.message ?? "" } })
        })
        if (Result.isFailure(status)) skip("status", schemaReason("not a delivery status", status.failure), raw)
        else statuses.push(status.success)
      }
    }
  }
  return { messages, statuses, skipped: skips, errors }
}

/**
 * Decodes the raw bytes of a (verified) Cloud API delivery. Only a body that
 * is no WhatsApp Business webhook at all — not UTF-8, not JSON, another
 * `object`, no `entry` array — fails, as `WebhookDecodeError`.
 */
export const decodeMetaWebhook = (rawBody: Uint8Array): Effect.Effect<Decoded, WebhookDecodeError> =>
  Effect.suspend(() => {
    let text: string
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(rawBody)
    } catch {
      return Effect.fail(new WebhookDecodeError({ provider: "meta", reason: "the body is not UTF-8" }))
    }
    const envelope = readEnvelope(text)
    return Result.isFailure(envelope)
      ? Effect.fail(new WebhookDecodeError({ provider: "meta", reason: schemaReason("not a WhatsApp Business webhook", envelope.failure).slice(0, 500) }))
      : Effect.succeed(fromMetaPayload(envelope.success))
  })
