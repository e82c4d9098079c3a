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
  statuses: Schema.optionalKey(Schema.Array(Schema.Unknown))
})

/** Only used for the sender's profile name: a contact that does not read is ignored. */
export const MetaContact = Schema.Struct({
  wa_id: Schema.String,
  profile: Schema.optionalKey(Schema.Struct({ name: Schema.String }))
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

export const MetaMessage = Schema.Struct({
  from: Schema.String,
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
  }))
})
export type MetaMessage = typeof MetaMessage.Type

/** `status` stays a string here: a value we do not report is a skipped item, not a failed delivery. */
export const MetaStatus = Schema.Struct({
  id: Schema.String,
  status: Schema.String,
  timestamp: Schema.String,
  recipient_id: Schema.String,
  errors: Schema.optionalKey(Schema.Array(Schema.Struct({
    // A number in Meta's examples; a string is accepted too rather than losing a failure report over it.
    code: Schema.Union([Schema.Finite, Schema.String]),
    title: Schema.optionalKey(Schema.String),
    message: Schema.optionalKey(Schema.String)
  })))
})
export type MetaStatus = typeof MetaStatus.Type
