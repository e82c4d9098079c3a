import { Context, Effect, Schema } from "effect"
import { SessionId, UserId } from "./Ids.ts"
import { MessageContent } from "./InboundMessage.ts"
import { StoreUnavailable } from "./StoreUnavailable.ts"

/**
 * What the pipeline writes into `metadata`: the intent it classified, the
 * interactive payload the user tapped, and the tool outputs a later button
 * click is resolved against (option id → entity).
 */
export const ToolOutput = Schema.Struct({
  tool: Schema.String,
  /** Row / button id shown to the user → the entity it stands for. */
  options: Schema.Record(Schema.String, Schema.Struct({ kind: Schema.String, id: Schema.String, label: Schema.String })),
  /**
   * Where "back" (typed) leads from this output, as an option would: the list
   * one level up, or the previous page. Not a row: lists have no room for it.
   */
  back: Schema.optionalKey(Schema.Struct({ kind: Schema.String, id: Schema.String }))
})
export type ToolOutput = typeof ToolOutput.Type

export const MessageMetadata = Schema.Struct({
  intent: Schema.optionalKey(Schema.String),
  interactive: Schema.optionalKey(Schema.Struct({ id: Schema.String, title: Schema.String })),
  toolOutputs: Schema.optionalKey(Schema.Array(ToolOutput)),
  /** The assistant asked a question and the next message answers it (e.g. a problem description for a project). */
  awaiting: Schema.optionalKey(Schema.Struct({ kind: Schema.String, id: Schema.String })),
  reply: Schema.optionalKey(Schema.Unknown),
  /** The action an inbound message led to: an edit may redo a message's answer only if that changed nothing. */
  action: Schema.optionalKey(Schema.String),
  /** What the user sent, whole, when the text column only summarises it (a location, contacts, a reaction…). */
  received: Schema.optionalKey(MessageContent),
  /** The group an inbound message was posted in. */
  group: Schema.optionalKey(Schema.String)
})
export type MessageMetadata = typeof MessageMetadata.Type

export class StoredMessage extends Schema.Class<StoredMessage>("@parley/core/StoredMessage")({
  id: Schema.String,
  sessionId: SessionId,
  userId: UserId,
  direction: Schema.Literals(["inbound", "outbound"]),
  content: Schema.String,
  providerMessageId: Schema.optionalKey(Schema.String),
  metadata: MessageMetadata,
  createdAt: Schema.Int
}) {}

export type NewMessage = Omit<StoredMessage, "id">

/** The conversation log: every message belongs to exactly one session. */
export class MessageStore extends Context.Service<MessageStore, {
  append(message: NewMessage): Effect.Effect<StoredMessage, StoreUnavailable>
  /** The session's latest messages, newest first. */
  recent(sessionId: SessionId, limit: number): Effect.Effect<ReadonlyArray<StoredMessage>, StoreUnavailable>
}>()("@parley/core/MessageStore") {}
