import { MessageMetadata, SessionId, StoredMessage, UserId } from "@parley/core"
import { Schema } from "effect"

/** A `messages` row as the wire client returns it. */
export const MessageRow = Schema.Struct({
  id: Schema.String,
  session_id: Schema.String,
  subcontractor_id: Schema.String,
  direction: Schema.Literals(["inbound", "outbound"]),
  content: Schema.String,
  provider_message_id: Schema.NullOr(Schema.String),
  metadata: MessageMetadata,
  created_at: Schema.Date
})
export type MessageRow = typeof MessageRow.Type

export const decodeMessageRows = Schema.decodeUnknownEffect(Schema.Array(MessageRow))

/** The columns of a `MessageRow`, read from `messages` aliased as `alias`. */
export const messageColumns = (alias = "messages") =>
  [
    `${alias}.id::text AS id`,
    `${alias}.session_id::text AS session_id`,
    `${alias}.subcontractor_id::text AS subcontractor_id`,
    `${alias}.direction AS direction`,
    `${alias}.content AS content`,
    `${alias}.provider_message_id AS provider_message_id`,
    `${alias}.metadata AS metadata`,
    `${alias}.created_at AS created_at`
  ].join(", ")

export const toMessage = (r: MessageRow) =>
  new StoredMessage({
    id: r.id,
    sessionId: SessionId.make(r.session_id),
    userId: UserId.make(r.subcontractor_id),
    direction: r.direction,
    content: r.content,
    ...(r.provider_message_id === null ? {} : { providerMessageId: r.provider_message_id }),
    metadata: r.metadata,
    createdAt: r.created_at.getTime()
  })
