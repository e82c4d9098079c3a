import { Schema } from "effect"
import { PhoneNumber } from "./PhoneNumber.ts"

export const Provider = Schema.Literals(["meta", "twilio", "simulator"])
export type Provider = typeof Provider.Type

/** What the user sent, whatever the provider. Unknown kinds are kept as `Unsupported`, never dropped. */
export const Text = Schema.TaggedStruct("Text", { body: Schema.String })
/** A tap on a reply button or a template quick-reply: `id` is the payload we set when sending. */
export const ButtonReply = Schema.TaggedStruct("ButtonReply", { id: Schema.String, title: Schema.String })
/** A choice in an interactive list: `id` is the row id we set when sending. */
export const ListReply = Schema.TaggedStruct("ListReply", {
  id: Schema.String,
  title: Schema.String,
  description: Schema.optionalKey(Schema.String)
})
export const Media = Schema.TaggedStruct("Media", {
  kind: Schema.Literals(["image", "document", "audio", "video", "sticker"]),
  /** Meta's media id, or Twilio's media URL. */
  ref: Schema.String,
  mimeType: Schema.optionalKey(Schema.String),
  caption: Schema.optionalKey(Schema.String),
  filename: Schema.optionalKey(Schema.String)
})
export const Location = Schema.TaggedStruct("Location", {
  latitude: Schema.Finite,
  longitude: Schema.Finite,
  name: Schema.optionalKey(Schema.String),
  address: Schema.optionalKey(Schema.String)
})
export const Unsupported = Schema.TaggedStruct("Unsupported", { type: Schema.String })

export const MessageContent = Schema.Union([Text, ButtonReply, ListReply, Media, Location, Unsupported])
export type MessageContent = typeof MessageContent.Type

/** One message from a user, as the pipeline receives it. */
export class InboundMessage extends Schema.Class<InboundMessage>("@parley/core/InboundMessage")({
  provider: Provider,
  /** The provider's id for this message (wamid…, SM…): with `provider`, the deduplication key. */
  providerMessageId: Schema.NonEmptyString,
  from: PhoneNumber,
  /** The name the user set in WhatsApp, when the provider tells it. */
  profileName: Schema.optionalKey(Schema.String),
  /** When the provider says the user sent it (epoch milliseconds). */
  sentAt: Schema.Int,
  content: MessageContent,
  /**
   * The provider's id of our message this one answers (Meta's `context.id`,
   * Twilio's `OriginalRepliedMessageSid`): a tap on a button or a list row
   * carries the id of the message that showed it, and so the session it belongs to.
   */
  replyTo: Schema.optionalKey(Schema.NonEmptyString)
}) {}

/** A delivery report about a message we sent (not a user message). */
export class DeliveryStatus extends Schema.Class<DeliveryStatus>("@parley/core/DeliveryStatus")({
  provider: Provider,
  providerMessageId: Schema.NonEmptyString,
  recipient: PhoneNumber,
  status: Schema.Literals(["sent", "delivered", "read", "failed"]),
  at: Schema.Int,
  error: Schema.optionalKey(Schema.Struct({ code: Schema.String, title: Schema.String }))
}) {}
