import type { PgClient } from "@effect/sql-pg"
import type { Array as Arr } from "effect"

export const inboxChannel = "parley_inbox"
export const outboxChannel = "parley_outbox"

export interface ClaimedInboxRow {
  readonly id: string
  readonly payload: unknown
  readonly attempts: number
  readonly accepted_at: Date
  readonly lease_token: string
  readonly lease_until: Date
}

export interface ClaimedOutboxRow {
  readonly reply_id: string
  readonly recipient: string
  readonly payload: unknown
  readonly attempts: number
  readonly seq: string
  readonly lease_token: string
}

/** A turn as `parley_commit_turn` takes it (migration 0011): rows keyed by column name. */
export interface TurnRows {
  readonly id: string
  readonly token: string
  readonly at: Date
  /** The commit's time: "more work ready" is judged against it, and a reply lease starts at it. */
  readonly now: Date
  /** Lease the turn's first reply to the caller until then (when it is its recipient's next), or null. */
  readonly leaseUntil: Date | null
  readonly sessionId: string | null
  readonly escalate: boolean
  readonly messages: ReadonlyArray<{
    readonly session_id: string
    readonly subcontractor_id: string
    readonly direction: "inbound" | "outbound"
    readonly content: string
    readonly provider_message_id: string | null
    readonly metadata: unknown
    readonly created_at: Date
  }>
  readonly replies: ReadonlyArray<{
    readonly reply_id: string
    readonly recipient: string
    readonly session_id: string | null
    readonly payload: unknown
  }>
}

/** An inbound message as `parley_inbox_accept` takes it. */
export interface AcceptedRow {
  readonly provider: string
  readonly provider_message_id: string
  readonly sender: string
  readonly payload: unknown
}

/** How `parley_inbox_settle` moves a leased entry on (see migration 0007). */
export type InboxOutcome = "done" | "retry" | "dead" | "release"

/**
 * The statements of the message path (inbox, turn commit, outbox), shared by
 * `PgMessaging` and the SQL-only baseline of `npm run bench:e2e`, so the
 * benchmark compares the pipeline with the very same SQL.
 *
 * - The inbox is a queue per sender (`inbox_queues`, migration 0007): a
 *   message is numbered under its sender's queue lock when accepted, a claim
 *   leases only a queue's head and reads ready queues off one index. Each
 *   transition is one function call: one round trip, queue locked first.
 * - Notifications ride on the statement that creates the work
 *   (Postgres sends one per channel and transaction), saving a round trip.
 */
export const messagingSql = (sql: PgClient.PgClient) => ({
  acceptInbox: (messages: Arr.NonEmptyReadonlyArray<AcceptedRow>, now: Date) =>
    sql<{ id: string }>`SELECT id::text AS id FROM parley_inbox_accept(${sql.json(messages)}, ${now}, ${inboxChannel})`,

  /**
   * Leases the head of a ready queue. `more`: another sender's queue looked
   * ready too (as of the statement's start: a queue claimed meanwhile may
   * still count), so the wake-up is worth passing on to another worker.
   */
  claimInbox: (now: Date, leaseUntil: Date) =>
    sql<ClaimedInboxRow & { readonly more: boolean }>`
      SELECT c.id::text AS id, c.payload, c.attempts, c.accepted_at, c.lease_token::text AS lease_token, c.lease_until,
        EXISTS (SELECT 1 FROM inbox_queues q
                WHERE q.ready_at <= ${now} AND q.sender <> (SELECT i.sender FROM inbox i WHERE i.id = c.id)) AS more
      FROM parley_inbox_claim(${now}, ${leaseUntil}) c`,

  /** Renews a lease while its token holds it and it has not expired; no row: the lease is lost. */
  extendInbox: (id: string, token: string, now: Date, leaseUntil: Date) =>
    sql<{ lease_until: Date | null }>`SELECT parley_inbox_extend(${id}, ${token}, ${now}, ${leaseUntil}) AS lease_until`,

  /** Moves a claimed entry on, only while its lease token still holds it (the fence). */
  settleInbox: (id: string, token: string, outcome: InboxOutcome, at: Date, availableAt: Date | null = null, error: string | null = null) =>
    sql<{ held: boolean }>`
      SELECT parley_inbox_settle(${id}, ${token}, ${outcome}, ${at}, ${availableAt}, ${error}, ${inboxChannel}) AS held`,

  /**
   * The turn, committed with the inbox entry in one statement (one
   * transaction, one round trip): nothing is written unless the claim's token
   * still holds the entry (`committed` false: the lease was lost). It also
   * says whether another message is ready (`more`) and, asked to, leases the
   * first reply to the caller (`leased_reply_id`, `leased_token`). `notified`:
   * it woke the senders (a reply they can claim now, not leased here).
   */
  commitTurn: (turn: TurnRows) =>
    sql<{ committed: boolean; more: boolean; leased_reply_id: string | null; leased_token: string | null; notified: boolean }>`
      SELECT committed, more, leased_reply_id, leased_token::text AS leased_token, notified
      FROM parley_commit_turn(${turn.id}, ${turn.token}, ${turn.at}, ${turn.sessionId}, ${turn.escalate},
        ${sql.json(turn.messages)}, ${sql.json(turn.replies)}, ${inboxChannel}, ${outboxChannel}, ${turn.now}, ${turn.leaseUntil})`,

  /**
   * Due replies, only the oldest pending one of each recipient (a user sees
   * replies in the order they were produced), each leased with a fresh token.
   */
  claimOutbox: (now: Date, limit: number, leaseUntil: Date) =>
    sql<ClaimedOutboxRow>`
      WITH due AS (
        SELECT o.reply_id FROM outbox o
        WHERE o.state = 'pending' AND o.available_at <= ${now}
          AND o.seq = (SELECT min(p.seq) FROM outbox p WHERE p.recipient = o.recipient AND p.state = 'pending')
        ORDER BY o.seq
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE outbox SET available_at = ${leaseUntil}, attempts = outbox.attempts + 1, lease_token = gen_random_uuid()
      FROM due WHERE outbox.reply_id = due.reply_id
      RETURNING outbox.reply_id, outbox.recipient, outbox.payload, outbox.attempts, outbox.seq::text AS seq,
                outbox.lease_token::text AS lease_token`,

  /**
   * A delivery is a fact whichever claim made it: its provider id is always
   * kept (a tap on that copy carries the reply's session), and a pending reply
   * becomes sent. A reply already sent stays as it was: this copy is a
   * duplicate (`first` is false). `more`: its recipient has another reply
   * pending, read under the recipient's lock that the commit takes, with a
   * fresh snapshot (`parley_outbox_mark_sent`, migration 0011), so a turn
   * committed for the recipient meanwhile is never missed by both sides.
   */
  markSent: (replyId: string, providerMessageId: string, at: Date) =>
    sql<{ first: boolean; more: boolean }>`SELECT first, more FROM parley_outbox_mark_sent(${replyId}, ${providerMessageId}, ${at})`,

  /** A failed send is recorded only by the claim that holds the reply: a stale one changes nothing. */
  markFailed: (replyId: string, token: string, error: string, retryAt: Date | null, now: Date) =>
    sql<{ reply_id: string }>`
      UPDATE outbox SET last_error = ${error},
        state = ${retryAt === null ? "dead" : "pending"},
        available_at = ${retryAt ?? now},
        lease_token = NULL
      WHERE reply_id = ${replyId} AND lease_token = ${token} AND state = 'pending'
      RETURNING reply_id`,

  /** The session of the reply a provider message id was one copy of. */
  sessionOfSent: (providerMessageId: string) =>
    sql<{ session_id: string | null }>`
      SELECT o.session_id::text AS session_id
      FROM outbox_deliveries d JOIN outbox o ON o.reply_id = d.reply_id
      WHERE d.provider_message_id = ${providerMessageId}`
})
