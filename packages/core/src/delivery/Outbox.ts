import { Context, Effect } from "effect"
import type { SessionId } from "../identity/Ids.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"
import type { OutgoingReply } from "../conversation/Turn.ts"

export interface OutboxEntry extends OutgoingReply {
  readonly attempts: number
}

/**
 * Replies recorded by `Inbox.complete`, waiting to be delivered. Delivery is
 * at-least-once: an entry is leased to a sender, and only `markSent` retires
 * it; a failed send is retried with backoff when retryable, parked otherwise.
 * A recipient's replies go out one at a time, oldest first: `claimDue` hands
 * out only the oldest pending reply of each recipient, so a reply waiting for
 * a retry holds back the ones after it instead of being overtaken.
 */
export class Outbox extends Context.Service<Outbox, {
  claimDue(now: number, limit: number, leaseMillis: number): Effect.Effect<ReadonlyArray<OutboxEntry>, StoreUnavailable>
  markSent(replyId: string, providerMessageId: string, now: number): Effect.Effect<void, StoreUnavailable>
  markFailed(replyId: string, error: string, retryAt: number | undefined, now: number): Effect.Effect<void, StoreUnavailable>
  awaitWork(timeoutMillis: number): Effect.Effect<void>
  /**
   * The session of the sent reply the provider knows by `providerMessageId`:
   * a tap on a button or list row answers that reply, so it carries its session.
   */
  sessionOfSent(providerMessageId: string): Effect.Effect<SessionId | undefined, StoreUnavailable>
}>()("@parley/core/Outbox") {}
