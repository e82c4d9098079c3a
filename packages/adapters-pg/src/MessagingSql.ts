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
}

type Rows = Arr.NonEmptyReadonlyArray<Record<string, unknown>>

/**
 * The statements of the message path (inbox, turn commit, outbox), shared by
 * `PgMessaging` and the SQL-only baseline of `npm run bench:e2e`, so the
 * benchmark compares the pipeline with the very same SQL.
 *
 * - A queue's head is found with `id = (SELECT min(id) … WHERE sender = …)`,
 *   an index lookup on the pending rows of that sender: a `NOT EXISTS (older
 *   pending row)` form was planned as a scan of the whole pending index and
 *   slowed down as the backlog grew (0.9 ms at 100 pending, 6 ms at 3,000).
 * - Notifications ride on the statement that creates the work
 *   (`RETURNING pg_notify(…)`; Postgres sends one per channel and transaction),
 *   saving a round trip each time.
 */
export const messagingSql = (sql: PgClient.PgClient) => ({
  acceptInbox: (rows: Rows) =>
    sql<{ id: string }>`
      INSERT INTO inbox ${sql.insert(rows)}
      ON CONFLICT (provider, provider_message_id) DO NOTHING
      RETURNING id, pg_notify(${inboxChannel}, '')`,

  claimInbox: (now: Date, leaseUntil: Date) =>
    sql<ClaimedInboxRow>`
      WITH candidate AS (
        SELECT i.id FROM inbox i
        WHERE i.state = 'pending'
          AND i.available_at <= ${now}
          AND (i.lease_until IS NULL OR i.lease_until < ${now})
          AND i.id = (SELECT min(o.id) FROM inbox o WHERE o.sender = i.sender AND o.state = 'pending')
        ORDER BY i.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
      )
      UPDATE inbox SET
        lease_token = gen_random_uuid(),
        lease_until = ${leaseUntil},
        attempts = inbox.attempts + 1
      FROM candidate WHERE inbox.id = candidate.id
      RETURNING inbox.id::text AS id, inbox.payload, inbox.attempts, inbox.accepted_at,
                inbox.lease_token::text AS lease_token, inbox.lease_until`,

  /** Retires a claimed entry, only while its lease token still holds it (the fence). */
  retireInbox: (id: string, token: string, at: Date) =>
    sql<{ id: string }>`
      UPDATE inbox SET state = 'done', completed_at = ${at}, lease_token = NULL, lease_until = NULL
      WHERE id = ${id} AND lease_token = ${token} AND state = 'pending'
      RETURNING id`,

  insertMessages: (rows: Rows) => sql`INSERT INTO messages ${sql.insert(rows)}`,

  /** The session stays the one the request resolved, even if it ended meanwhile: only an active one changes. */
  touchSession: (sessionId: string, at: Date) =>
    sql`UPDATE conversation_sessions SET last_message_at = GREATEST(last_message_at, ${at})
        WHERE id = ${sessionId} AND status = 'active'`,

  escalateSession: (sessionId: string, at: Date) =>
    sql`UPDATE conversation_sessions
        SET status = 'escalated', end_reason = 'escalated', ended_at = ${at}, last_message_at = GREATEST(last_message_at, ${at})
        WHERE id = ${sessionId} AND status = 'active'`,

  insertReplies: (rows: Rows) =>
    sql`INSERT INTO outbox ${sql.insert(rows)} ON CONFLICT (reply_id) DO NOTHING RETURNING reply_id, pg_notify(${outboxChannel}, '')`,

  /** Due replies, only the oldest pending one of each recipient: a user sees replies in the order they were produced. */
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
      UPDATE outbox SET available_at = ${leaseUntil}, attempts = outbox.attempts + 1
      FROM due WHERE outbox.reply_id = due.reply_id
      RETURNING outbox.reply_id, outbox.recipient, outbox.payload, outbox.attempts, outbox.seq::text AS seq`,

  markSent: (replyId: string, providerMessageId: string, at: Date) =>
    sql`UPDATE outbox SET state = 'sent', provider_message_id = ${providerMessageId}, sent_at = ${at}
        WHERE reply_id = ${replyId}`
})
