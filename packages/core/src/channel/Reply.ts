import { Schema } from "effect"

/**
 * What the assistant says back, independent of the provider. The WhatsApp
 * adapters validate a reply against the platform's limits before sending it.
 */
export const ReplyButton = Schema.Struct({ id: Schema.String, title: Schema.String })
export type ReplyButton = typeof ReplyButton.Type

export const ListRow = Schema.Struct({
  id: Schema.String,
  title: Schema.String,
  description: Schema.optionalKey(Schema.String)
})
export type ListRow = typeof ListRow.Type

export const ListSection = Schema.Struct({ title: Schema.String, rows: Schema.Array(ListRow) })
export type ListSection = typeof ListSection.Type

export const TextReply = Schema.TaggedStruct("TextReply", { body: Schema.String })
export const ButtonsReply = Schema.TaggedStruct("ButtonsReply", {
  body: Schema.String,
  buttons: Schema.Array(ReplyButton),
  header: Schema.optionalKey(Schema.String),
  footer: Schema.optionalKey(Schema.String)
})
export const ListReplyMessage = Schema.TaggedStruct("ListReplyMessage", {
  body: Schema.String,
  /** The label of the button that opens the list. */
  button: Schema.String,
  sections: Schema.Array(ListSection),
  header: Schema.optionalKey(Schema.String),
  footer: Schema.optionalKey(Schema.String)
})

export const Reply = Schema.Union([TextReply, ButtonsReply, ListReplyMessage])
export type Reply = typeof Reply.Type
