import { Context, type Effect } from "effect"
import type { OutboxEntry } from "./Outbox.ts"

/**
 * This process's outbox sender as its workers see it. A worker whose commit
 * leased the turn's reply to it (`Inbox.complete` with `leaseRepliesFor`)
 * hands the reply over here and the sender delivers it at once: no
 * notification, no claim, two round trips fewer per message. Provided by
 * `OutboxSenderLayer`; workers without it leave their replies to be claimed.
 */
export class ReplyHandoff extends Context.Service<ReplyHandoff, {
  /** How long a handed-over reply is leased for: the sender's outbox lease. */
  readonly leaseMillis: number
  /**
   * Whether the sender has a free delivery slot: a worker asks for its reply
   * only then, so handed-over replies respect the sender's `concurrency` (a
   * slow provider does not get a send per committed turn); otherwise the
   * reply waits in the outbox to be claimed.
   */
  readonly hasRoom: Effect.Effect<boolean>
  /** Starts delivering replies leased to this process, as if the sender had claimed them. */
  handOver(entries: ReadonlyArray<OutboxEntry>): Effect.Effect<void>
}>()("@parley/core/ReplyHandoff") {}
