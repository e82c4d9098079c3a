import { Schema } from "effect"

/**
 * The Cloud API webhook body, as far as parley reads it. Unknown fields are
 * ignored; a message of a type we do not model keeps its `type` and becomes
 * `Unsupported` rather than a decode error.
 */
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

export const MetaStatus = Schema.Struct({
  id: Schema.String,
  status: Schema.Literals(["sent", "delivered", "read", "failed"]),
  timestamp: Schema.String,
  recipient_id: Schema.String,
  errors: Schema.optionalKey(Schema.Array(Schema.Struct({ code: Schema.Finite, title: Schema.String })))
})
export type MetaStatus = typeof MetaStatus.Type

export const MetaWebhookPayload = Schema.Struct({
  object: Schema.Literal("whatsapp_business_account"),
  entry: Schema.Array(Schema.Struct({
    id: Schema.String,
    changes: Schema.Array(Schema.Struct({
      field: Schema.String,
      value: Schema.Struct({
        messaging_product: Schema.optionalKey(Schema.String),
        metadata: Schema.optionalKey(Schema.Struct({ display_phone_number: Schema.String, phone_number_id: Schema.String })),
        contacts: Schema.optionalKey(Schema.Array(Schema.Struct({
          wa_id: Schema.String,
          profile: Schema.optionalKey(Schema.Struct({ name: Schema.String }))
        }))),
        messages: Schema.optionalKey(Schema.Array(MetaMessage)),
        statuses: Schema.optionalKey(Schema.Array(MetaStatus))
      })
    }))
  }))
})
export type MetaWebhookPayload = typeof MetaWebhookPayload.Type
