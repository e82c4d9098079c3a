import { Context, Effect, Schema } from "effect"
import type { UserAddress } from "./UserAddress.ts"
import type { Reply } from "./Reply.ts"

export const SendFailureReason = Schema.Literals([
  "rate_limited",
  "window_closed",
  "invalid_recipient",
  "invalid_reply",
  "unauthorized",
  "transient",
  /** The provider did not answer in time: the message may or may not have gone out. */
  "timeout",
  "rejected"
])
export type SendFailureReason = typeof SendFailureReason.Type

/** The provider did not take the message. `retryable` tells the outbox whether to try again or park it. */
export class SendFailed extends Schema.TaggedError<SendFailed>()("SendFailed", {
  reason: SendFailureReason,
  retryable: Schema.Boolean,
  message: Schema.String,
  providerCode: Schema.optionalKey(Schema.String)
}) {}

export interface Sent {
  /** The provider's id for the sent message (wamid…, SM…). */
  readonly providerMessageId: string
}

/**
 * Sends replies to a user. Delivery is at-least-once: the outbox may send the
 * same reply again after a crash, always with the same `replyId`, so an
 * implementation can deduplicate.
 */
export class Messenger extends Context.Service<Messenger, {
  send(to: UserAddress, reply: Reply, replyId: string): Effect.Effect<Sent, SendFailed>
  markAsRead(providerMessageId: string): Effect.Effect<void, SendFailed>
}>()("@parley/core/Messenger") {}
