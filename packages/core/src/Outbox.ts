import { Context, Effect } from "effect"
import type { StoreUnavailable } from "./StoreUnavailable.ts"
import type { OutgoingReply } from "./Turn.ts"

export interface OutboxEntry extends OutgoingReply {
  readonly attempts: number
}

/**
 * Replies recorded by `Inbox.complete`, waiting to be delivered. Delivery is
 * at-least-once: an entry is leased to a sender, and only `markSent` retires
 * it; a failed send is retried with backoff when retryable, parked otherwise.
 */
export class Outbox extends Context.Service<Outbox, {
  claimDue(now: number, limit: number, leaseMillis: number): Effect.Effect<ReadonlyArray<OutboxEntry>, StoreUnavailable>
  markSent(replyId: string, providerMessageId: string, now: number): Effect.Effect<void, StoreUnavailable>
  markFailed(replyId: string, error: string, retryAt: number | undefined, now: number): Effect.Effect<void, StoreUnavailable>
  awaitWork(timeoutMillis: number): Effect.Effect<void>
}>()("@parley/core/Outbox") {}
