import { Schema } from "effect"
import { PhoneNumber } from "./PhoneNumber.ts"
import { BusinessScopedUserId, isPhoneNumber, UserAddress } from "./UserAddress.ts"

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
/** An emoji put on a message (`messageId`); without `emoji`, the user took their reaction back. */
export const Reaction = Schema.TaggedStruct("Reaction", { messageId: Schema.String, emoji: Schema.optionalKey(Schema.String) })
/** The user deleted one of their messages for everyone (WhatsApp's "revoke"). */
export const Deleted = Schema.TaggedStruct("Deleted", { messageId: Schema.String })
/** The user edited one of their messages (`messageId`): what it now says (absent: a kind we do not read). */
export const Edited = Schema.TaggedStruct("Edited", { messageId: Schema.String, content: Schema.optionalKey(Schema.Union([Text, Media])) })
/**
 * A notice about the user's account rather than a message: `user_changed_number`
 * (with the new phone number), `user_changed_user_id` (a new BSUID)…
 */
export const SystemNotice = Schema.TaggedStruct("SystemNotice", {
  kind: Schema.String,
  body: Schema.optionalKey(Schema.String),
  newPhone: Schema.optionalKey(PhoneNumber),
  newUserId: Schema.optionalKey(BusinessScopedUserId)
})
/** Contact cards the user shared: each one's name and numbers. */
export const Contacts = Schema.TaggedStruct("Contacts", {
  contacts: Schema.Array(Schema.Struct({
    name: Schema.String,
    phones: Schema.Array(Schema.String),
    emails: Schema.optionalKey(Schema.Array(Schema.String))
  }))
})
/** An order placed from the business's catalog. */
export const Order = Schema.TaggedStruct("Order", {
  catalogId: Schema.String,
  text: Schema.optionalKey(Schema.String),
  items: Schema.Array(Schema.Struct({
    productId: Schema.String,
    quantity: Schema.Finite,
    price: Schema.optionalKey(Schema.Finite),
    currency: Schema.optionalKey(Schema.String)
  }))
})

export const MessageContent = Schema.Union([
  Text,
  ButtonReply,
  ListReply,
  Media,
  Location,
  Reaction,
  Deleted,
  Edited,
  SystemNotice,
  Contacts,
  Order,
  Unsupported
])
export type MessageContent = typeof MessageContent.Type

/** One message from a user, as the pipeline receives it. */
export class InboundMessage extends Schema.Class<InboundMessage>("@parley/core/InboundMessage")({
  provider: Provider,
  /** The provider's id for this message (wamid…, SM…): with `provider`, the deduplication key. */
  providerMessageId: Schema.NonEmptyString,
  /**
   * Where the sender is reached, and what replies go to: their phone number
   * when the provider gives it, else their business-scoped user id.
   */
  from: UserAddress,
  /** The sender's business-scoped user id (Meta's `from_user_id`), whenever the provider sends it, phone or not. */
  userId: Schema.optionalKey(BusinessScopedUserId),
  /** The group the message was posted in (Meta's `group_id`): not a one-to-one conversation. */
  group: Schema.optionalKey(Schema.NonEmptyString),
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
  /** The recipient's phone number, or their business-scoped user id when the status carries no number. */
  recipient: UserAddress,
  status: Schema.Literals(["sent", "delivered", "read", "failed"]),
  at: Schema.Int,
  error: Schema.optionalKey(Schema.Struct({ code: Schema.String, title: Schema.String }))
}) {}

/** The sender's phone number, when the provider gave one. */
export const phoneOf = (inbound: InboundMessage): PhoneNumber | undefined => (isPhoneNumber(inbound.from) ? inbound.from : undefined)

/**
 * The key a user's messages queue under, one at a time and in order: their
 * business-scoped user id when the provider sends one (it stays the same
 * whether or not the phone number comes with it), else their address.
 */
export const senderKeyOf = (inbound: InboundMessage): string => inbound.userId ?? inbound.from
