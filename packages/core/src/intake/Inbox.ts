import { Context, Duration, Effect, Schema } from "effect"
import type { InboundMessage } from "../channel/InboundMessage.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"
import type { Turn } from "../conversation/Turn.ts"
import type { OutboxEntry } from "../delivery/Outbox.ts"

/** One accepted inbound message, as the inbox holds it. */
export interface InboxEntry {
  readonly id: string
  /** Arrival order across the whole inbox; a user's messages are processed in this order. */
  readonly seq: number
  readonly message: InboundMessage
  readonly attempts: number
  readonly acceptedAt: number
}

/** A worker's lease on an entry. `token` fences a worker whose lease expired and was taken over. */
export interface Claim {
  readonly entry: InboxEntry
  readonly token: string
  readonly leaseUntil: number
}

export interface AcceptResult {
  readonly accepted: number
  readonly duplicates: number
}

export interface CompleteOptions {
  /** The commit's time (the turn's `at` when absent): when leases start, and what "ready to claim" is judged against. */
  readonly now?: number
  /**
   * Lease the turn's first reply to the caller for this many milliseconds,
   * when it is its recipient's next one (nothing of theirs pending before
   * it): the caller delivers it at once, as a sender's claim would have,
   * without claiming it. The other replies wait in the outbox as usual.
   */
  readonly leaseRepliesFor?: number
}

/** What `complete` tells the worker beside "committed". */
export interface Completed {
  /** Whether some message may be ready to claim now; false: nothing was, the worker may sleep until woken. */
  readonly more: boolean
  /** The turn's replies leased to the caller (`leaseRepliesFor`), claimed as `Outbox.claimDue` claims: deliver them. */
  readonly leased: ReadonlyArray<OutboxEntry>
}

export interface DeadEntry {
  readonly entry: InboxEntry
  readonly error: string
  readonly failedAt: number
}

/** The lease was lost (expired and claimed by another worker): this worker's result must not be committed. */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  entryId: Schema.String
}) {}

export interface RetryPolicy {
  readonly maxAttempts: number
  readonly backoff: (attempt: number) => Duration.Duration
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  backoff: (attempt) => Duration.seconds(Math.min(2 ** (attempt - 1), 300))
}

/**
 * Durable intake of inbound messages.
 *
 * - `accept` stores messages durably, deduplicated by (provider, provider
 *   message id): a redelivered webhook is acknowledged and counted as a
 *   duplicate, never processed twice.
 * - `claim` leases the oldest pending entry of a user (by sender) who has no
 *   entry in flight and whose head entry is due: at most one entry per user is
 *   in flight, so each user's messages are processed one at a time in arrival
 *   order — across any number of workers and processes.
 * - `complete` commits the turn and retires the entry atomically, only while
 *   the claim's lease is still held (`LeaseLost` otherwise). It says whether
 *   more work may be claimable (a worker that was told no sleeps without an
 *   empty claim) and, asked to, leases the turn's first reply to the caller
 *   in the same step, so the caller's sender need not claim it.
 * - `fail` schedules a retry with backoff, or parks the entry as dead with its
 *   error after `maxAttempts`; a dead entry stops blocking its user's queue.
 * - A lease that expires (the worker died) makes the entry claimable again;
 *   a live worker renews it with `extend` while it processes.
 */
export class Inbox extends Context.Service<Inbox, {
  accept(messages: ReadonlyArray<InboundMessage>, now: number): Effect.Effect<AcceptResult, StoreUnavailable>
  claim(now: number, lease: Duration.Duration): Effect.Effect<Claim | undefined, StoreUnavailable>
  /** Renews a live worker's lease, so only a dead worker's entry is taken over. */
  extend(claim: Claim, now: number, lease: Duration.Duration): Effect.Effect<Claim, LeaseLost | StoreUnavailable>
  complete(claim: Claim, turn: Turn, options?: CompleteOptions): Effect.Effect<Completed, LeaseLost | StoreUnavailable>
  fail(claim: Claim, error: string, now: number, policy: RetryPolicy): Effect.Effect<"retry" | "dead", LeaseLost | StoreUnavailable>
  /** Gives an entry back without counting an attempt (graceful shutdown). */
  release(claim: Claim): Effect.Effect<void, StoreUnavailable>
  /** Resolves when there may be new work (new entry, released lease) or after `timeout`, whichever comes first. */
  awaitWork(timeout: Duration.Duration): Effect.Effect<void>
  listDead(limit: number): Effect.Effect<ReadonlyArray<DeadEntry>, StoreUnavailable>
  /** Puts a dead entry back in its user's queue with a fresh attempt count. */
  retryDead(entryId: string, now: number): Effect.Effect<boolean, StoreUnavailable>
}>()("@parley/core/Inbox") {}
