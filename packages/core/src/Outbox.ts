import { Context, Effect } from "effect"
import type { SessionId } from "./Ids.ts"
import type { StoreUnavailable } from "./StoreUnavailable.ts"
import type { OutgoingReply } from "./Turn.ts"

export interface OutboxEntry extends OutgoingReply {
  readonly attempts: number
}

/** A reply parked as dead (not retryable, or out of attempts), as operators see it. */
export interface DeadReply {
  readonly replyId: string
  readonly to: OutgoingReply["to"]
  readonly attempts: number
  readonly error: string
  readonly failedAt: number
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
  /** Dead replies, the most recently parked first: invisible to operators otherwise. */
  listDead(limit: number): Effect.Effect<ReadonlyArray<DeadReply>, StoreUnavailable>
  /**
   * Puts a dead reply back in its recipient's queue, due at `now` with a fresh
   * attempt count (after the operator fixed what made it fail). False when no
   * dead reply has that id.
   */
  retryDead(replyId: string, now: number): Effect.Effect<boolean, StoreUnavailable>
}>()("@parley/core/Outbox") {}
