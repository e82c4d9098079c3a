import { Context, Effect } from "effect"
import type { SessionId } from "../identity/Ids.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"
import type { OutgoingReply } from "../conversation/Turn.ts"

/** A claimed reply. `token` fences the claim: once its lease passed and another sender claimed the reply, this claim's failures change nothing. */
export interface OutboxEntry extends OutgoingReply {
  readonly attempts: number
  readonly token: string
}

/** A reply parked as dead (not retryable, or out of attempts), as operators see it. */
export interface DeadReply {
  readonly replyId: string
  readonly to: OutgoingReply["to"]
  readonly attempts: number
  readonly error: string
  readonly failedAt: number
}

/** `sent`: this delivery made the reply sent. `duplicate`: the reply was already sent; this was one more copy (kept, and counted). */
export type SentOutcome = "sent" | "duplicate"

/** What `markSent` reports: the outcome, and whether the recipient has another reply pending (the sender claims again only then). */
export interface MarkedSent {
  readonly outcome: SentOutcome
  readonly more: boolean
}

/** `recorded`: the failure was applied. `stale`: the claim no longer held the reply (lease passed, or sent meanwhile); nothing changed. */
export type FailedOutcome = "recorded" | "stale"

/**
 * Replies recorded by `Inbox.complete`, waiting to be delivered (or leased
 * by it to the worker's own sender: see `CompleteOptions.leaseRepliesFor`). Delivery is
 * fenced, bounded at-least-once:
 *
 * - `claimDue` leases each due reply with a fresh token; a sender that dies
 *   or stalls past the lease is taken over with one more attempt.
 * - `markSent` records a delivery whichever claim made it — it happened —
 *   and keeps every provider id a reply was sent under, so a tap on any copy
 *   carries its session (`sessionOfSent`). A sent reply is final: nothing
 *   reopens it. A second copy reports `duplicate`. It also says whether the
 *   recipient has more pending (`more`): a sender claims again only then,
 *   on a wake-up, or on its poll — never an empty claim after each send.
 * - `markFailed` applies only while the entry's token holds the reply: a late
 *   failure from a stale claim never reopens, reschedules or kills it.
 * - A recipient's replies go out one at a time, oldest first: `claimDue`
 *   hands out only the oldest pending reply of each recipient, so a reply
 *   waiting for a retry holds back the ones after it instead of being
 *   overtaken.
 *
 * A duplicate needs a send that outlived its lease without its outcome being
 * recorded (the process died, or the database was unreachable, between the
 * provider's answer and `markSent`): the sender bounds each send by a timeout
 * shorter than the lease, so a live sender never causes one.
 */
export class Outbox extends Context.Service<Outbox, {
  claimDue(now: number, limit: number, leaseMillis: number): Effect.Effect<ReadonlyArray<OutboxEntry>, StoreUnavailable>
  markSent(entry: OutboxEntry, providerMessageId: string, now: number): Effect.Effect<MarkedSent, StoreUnavailable>
  markFailed(entry: OutboxEntry, error: string, retryAt: number | undefined, now: number): Effect.Effect<FailedOutcome, StoreUnavailable>
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
