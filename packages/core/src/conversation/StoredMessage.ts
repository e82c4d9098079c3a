import { Context, Effect, Schema } from "effect"
import { MessageContent } from "../channel/InboundMessage.ts"
import { SessionId, UserId } from "../identity/Ids.ts"
import { StoreUnavailable } from "../StoreUnavailable.ts"

/**
 * What a message's `metadata` holds. The engine writes its own keys: the
 * interactive payload the user tapped, the whole content when the text column
 * only summarises it, the group (inbound), and the reply it sent (outbound, so
 * a later message can see what was shown, in order). The
 * assistant's own state for the message sits beside them as further keys,
 * which the engine stores and hands back but never reads: the worksite
 * assistant keeps its `intent`, `toolOutputs` and `awaiting` there.
 */
export const EngineMetadata = Schema.Struct({
  interactive: Schema.optionalKey(Schema.Struct({ id: Schema.String, title: Schema.String })),
  reply: Schema.optionalKey(Schema.Unknown),
  /** What the user sent, whole, when the text column only summarises it (a location, contacts, a reaction…). */
  received: Schema.optionalKey(MessageContent),
  /** The group an inbound message was posted in. */
  group: Schema.optionalKey(Schema.String)
})

export const MessageMetadata = Schema.StructWithRest(EngineMetadata, [Schema.Record(Schema.String, Schema.Unknown)])
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
