import { Schema } from "effect"

/**
 * The Cloud API webhook body, as far as parley reads it (Meta's "Webhooks
 * payload examples" and "messages" object reference). It is read in layers so
 * that one unreadable item is skipped alone: the envelope (the only part whose
 * failure fails the delivery), then each entry, change, message and status.
 * Unknown fields are ignored; a message of a type we do not model keeps its
 * `type` and becomes `Unsupported` rather than a decode error.
 */
export const MetaWebhookEnvelope = Schema.Struct({
  object: Schema.Literal("whatsapp_business_account"),
  entry: Schema.Array(Schema.Unknown)
})
export type MetaWebhookEnvelope = typeof MetaWebhookEnvelope.Type

export const MetaEntry = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  changes: Schema.Array(Schema.Unknown)
})

export const MetaChange = Schema.Struct({ field: Schema.String, value: Schema.Unknown })

export const MetaChangeValue = Schema.Struct({
  contacts: Schema.optionalKey(Schema.Array(Schema.Unknown)),
  messages: Schema.optionalKey(Schema.Array(Schema.Unknown)),
  statuses: Schema.optionalKey(Schema.Array(Schema.Unknown)),
  /** Meta's "errors" webhook: a problem with the app or account, not tied to one message. */
  errors: Schema.optionalKey(Schema.Array(Schema.Unknown))
})

/**
 * Only used for the sender's profile name: a contact that does not read is
 * ignored. Since the username rollout a contact carries `user_id` (the BSUID)
 * and may lack `wa_id`.
 */
export const MetaContact = Schema.Struct({
  wa_id: Schema.optionalKey(Schema.String),
  user_id: Schema.optionalKey(Schema.String),
  profile: Schema.optionalKey(Schema.Struct({ name: Schema.optionalKey(Schema.String), username: Schema.optionalKey(Schema.String) }))
})

/** One of `errors[]`: `code` is a number in Meta's reference, a string is accepted rather than losing the notice. */
export const MetaError = Schema.Struct({
  code: Schema.Union([Schema.Finite, Schema.String]),
  title: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  error_data: Schema.optionalKey(Schema.Struct({ details: Schema.optionalKey(Schema.String) }))
})

/**
 * `context` of a message: `id` is our message it answers (a button or list
 * row tap, a quoted reply). Read on its own so that an odd context (a forward
 * has no `id`) never costs the message.
 */
export const MetaContext = Schema.Struct({ id: Schema.NonEmptyString })

const Media = Schema.Struct({
  id: Schema.String,
  mime_type: Schema.optionalKey(Schema.String),
  caption: Schema.optionalKey(Schema.String),
  filename: Schema.optionalKey(Schema.String)
})

/** What an edit says now: Meta's `edit.message`, a text or a captioned media. */
export const MetaEditedMessage = Schema.Struct({
  type: Schema.String,
  text: Schema.optionalKey(Schema.Struct({ body: Schema.String })),
  image: Schema.optionalKey(Media),
  video: Schema.optionalKey(Media),
  document: Schema.optionalKey(Media)
})

/**
 * A user message. `from` (the phone number) may be missing for a user with a
 * username; `from_user_id` (the BSUID) comes with every message since
 * 2026-03-31. `group_id` marks a message posted in a group.
 */
export const MetaMessage = Schema.Struct({
  from: Schema.optionalKey(Schema.String),
  from_user_id: Schema.optionalKey(Schema.String),
  group_id: Schema.optionalKey(Schema.String),
  id: Schema.String,
  timestamp: Schema.String,
  type: Schema.String,
  context: Schema.optionalKey(Schema.Unknown),
  text: Schema.optionalKey(Schema.Struct({ body: Schema.String })),
  interactive: Schema.optionalKey(Schema.Struct({
    type: Schema.String,
    button_reply: Schema.optionalKey(Schema.Struct({ id: Schema.String, title: Schema.String })),
    list_reply: Schema.optionalKey(Schema.Struct({ id: Schema.String, title: Schema.String, description: Schema.optionalKey(Schema.String) }))
  })),
  button: Schema.optionalKey(Schema.Struct({ payload: Schema.String, text: Schema.String })),
  image: Schema.optionalKey(Media),
  document: Schema.optionalKey(Media),
  audio: Schema.optionalKey(Media),
  video: Schema.optionalKey(Media),
  sticker: Schema.optionalKey(Media),
  location: Schema.optionalKey(Schema.Struct({
    latitude: Schema.Finite,
    longitude: Schema.Finite,
    name: Schema.optionalKey(Schema.String),
    address: Schema.optionalKey(Schema.String)
  })),
  reaction: Schema.optionalKey(Schema.Struct({ message_id: Schema.String, emoji: Schema.optionalKey(Schema.String) })),
  revoke: Schema.optionalKey(Schema.Struct({ original_message_id: Schema.String })),
  edit: Schema.optionalKey(Schema.Struct({ original_message_id: Schema.String, message: Schema.Unknown })),
  system: Schema.optionalKey(Schema.Struct({
    body: Schema.optionalKey(Schema.String),
    type: Schema.optionalKey(Schema.String),
    // The new number: `wa_id` in older payloads, `new_wa_id` in newer ones.
    wa_id: Schema.optionalKey(Schema.String),
    new_wa_id: Schema.optionalKey(Schema.String),
    user_id: Schema.optionalKey(Schema.String),
    new_user_id: Schema.optionalKey(Schema.String)
  })),
  contacts: Schema.optionalKey(Schema.Array(Schema.Struct({
    name: Schema.optionalKey(Schema.Struct({ formatted_name: Schema.optionalKey(Schema.String), first_name: Schema.optionalKey(Schema.String) })),
    phones: Schema.optionalKey(Schema.Array(Schema.Struct({ phone: Schema.optionalKey(Schema.String), wa_id: Schema.optionalKey(Schema.String) }))),
    emails: Schema.optionalKey(Schema.Array(Schema.Struct({ email: Schema.optionalKey(Schema.String) })))
  }))),
  order: Schema.optionalKey(Schema.Struct({
    catalog_id: Schema.String,
    text: Schema.optionalKey(Schema.String),
    product_items: Schema.Array(Schema.Struct({
      product_retailer_id: Schema.String,
      // Numbers in Meta's reference; strings accepted rather than losing the order.
      quantity: Schema.Union([Schema.Finite, Schema.NumberFromString]),
      item_price: Schema.optionalKey(Schema.Union([Schema.Finite, Schema.NumberFromString])),
      currency: Schema.optionalKey(Schema.String)
    }))
  }))
})
export type MetaMessage = typeof MetaMessage.Type

/**
 * `status` stays a string here: a value we do not report is a skipped item,
 * not a failed delivery. The recipient is `recipient_id` (the phone number,
 * absent for a message sent to a BSUID whose number Meta withholds) and/or
 * `recipient_user_id` (the BSUID; `user_id` in some payloads).
 */
export const MetaStatus = Schema.Struct({
  id: Schema.String,
  status: Schema.String,
  timestamp: Schema.String,
  recipient_id: Schema.optionalKey(Schema.String),
  recipient_user_id: Schema.optionalKey(Schema.String),
  user_id: Schema.optionalKey(Schema.String),
  errors: Schema.optionalKey(Schema.Array(Schema.Struct({
    // A number in Meta's examples; a string is accepted too rather than losing a failure report over it.
    code: Schema.Union([Schema.Finite, Schema.String]),
    title: Schema.optionalKey(Schema.String),
    message: Schema.optionalKey(Schema.String)
  })))
})
export type MetaStatus = typeof MetaStatus.Type
