import type { SessionId } from "./Ids.ts"
import type { UserAddress } from "./UserAddress.ts"
import type { Reply } from "./Reply.ts"
import type { NewMessage } from "./StoredMessage.ts"

/** A reply waiting in the outbox. `replyId` is stable across retries so the messenger can deduplicate. */
export interface OutgoingReply {
  readonly replyId: string
  readonly to: UserAddress
  readonly reply: Reply
  /** The session the reply belongs to (none for a sender we do not know): a tap answering it carries that session. */
  readonly sessionId?: SessionId | undefined
}

/**
 * Everything one processed inbound message changes, committed in one atomic
 * step together with the completion of its inbox entry: the messages (all in
 * the one session the request resolved), the session's activity or escalation,
 * and the replies to send. Either all of it happens exactly once or none of it.
 */
export interface Turn {
  /** Absent for a sender we do not know: they get a reply and no session. */
  readonly sessionId?: SessionId | undefined
  readonly messages: ReadonlyArray<NewMessage>
  readonly replies: ReadonlyArray<OutgoingReply>
  /** The conversation was handed to a human: the session becomes `escalated`. */
  readonly escalate: boolean
  readonly at: number
}
