import { PgClient } from "@effect/sql-pg"
import {
  Handoff,
  Inbox,
  InboundMessage,
  LeaseLost,
  logHandoff,
  makeWakeSignal,
  Outbox,
  Reply,
  PhoneNumber,
  SessionId,
  type Claim,
  type DeadEntry,
  type DeadReply,
  type HandoffRequest,
  type InboxEntry,
  type OutboxEntry
} from "@parley/core"
import { Array as Arr, Context, Duration, Effect, Layer, Schema, Stream } from "effect"
import { fromSqlError, orUnavailable } from "./mapSqlError.ts"
import { inboxChannel, messagingSql, outboxChannel, type ClaimedInboxRow } from "./MessagingSql.ts"

const encodeInbound = Schema.encodeSync(InboundMessage)
const decodeInbound = Schema.decodeUnknownEffect(InboundMessage)
const encodeReply = Schema.encodeSync(Reply)
const decodeReply = Schema.decodeUnknownEffect(Reply)

const toEntry = (row: Pick<ClaimedInboxRow, "id" | "payload" | "attempts" | "accepted_at">) =>
  Effect.map(decodeInbound(row.payload), (message): InboxEntry => ({
    id: row.id,
    seq: Number(row.id),
    message,
    attempts: row.attempts,
    acceptedAt: row.accepted_at.getTime()
  }))

/**
 * `Inbox`, `Outbox` and `Handoff` on Postgres (tables from migration 0004).
 *
 * - Claims pick the head of each sender's queue with `FOR UPDATE SKIP LOCKED`:
 *   workers in any number of processes never wait on each other's rows, and a
 *   sender's later message is not a candidate while an earlier one is pending.
 * - `complete` is one transaction: the lease check (`lease_token`) fences out
 *   a worker that lost its lease, then the turn's messages, the session's
 *   activity or escalation and the replies are written with the inbox row.
 * - Idle workers sleep on `LISTEN parley_inbox`; `accept` and `release`
 *   notify. A poll timeout stays as the safety net for lost notifications.
 */
export const makePgMessaging = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const statements = messagingSql(sql)
  const inboxSignal = makeWakeSignal()
  const outboxSignal = makeWakeSignal()

  // One listening connection per process fans notifications out to every idle worker.
  const listen = (channel: string, signal: { readonly notify: Effect.Effect<void> }) =>
    sql.listen(channel).pipe(
      Effect.flatMap((queue) => Stream.fromQueue(queue).pipe(Stream.runForEach(() => signal.notify))),
      Effect.catch((error) => Effect.logWarning("LISTEN lost; workers fall back to polling").pipe(Effect.annotateLogs({ channel, error: error.message }))),
      Effect.forkScoped
    )
  yield* listen(inboxChannel, inboxSignal)
  yield* listen(outboxChannel, outboxSignal)

  const at = (millis: number) => new Date(millis)

  const inbox = Inbox.of({
    accept: (messages, now) =>
      Effect.gen(function*() {
        const rows = messages.map((m): Record<string, unknown> => ({
          provider: m.provider,
          provider_message_id: m.providerMessageId,
          sender: m.from,
          payload: sql.json(encodeInbound(m)),
          available_at: at(now),
          accepted_at: at(now)
        }))
        if (!Arr.isReadonlyArrayNonEmpty(rows)) return { accepted: 0, duplicates: 0 }
        const inserted = yield* statements.acceptInbox(rows)
        return { accepted: inserted.length, duplicates: messages.length - inserted.length }
      }).pipe(orUnavailable("inbox.accept")),

    claim: (now, lease) =>
      Effect.gen(function*() {
        const rows = yield* statements.claimInbox(at(now), at(now + Duration.toMillis(lease)))
        const row = rows[0]
        if (row === undefined) return undefined
        // Work found: there may be more, so the wake-up passes on to one more idle worker.
        yield* inboxSignal.notify
        const entry = yield* toEntry(row)
        return { entry, token: row.lease_token, leaseUntil: row.lease_until.getTime() } satisfies Claim
      }).pipe(orUnavailable("inbox.claim")),

    extend: (claim, now, lease) =>
      sql<{ lease_until: Date }>`
        UPDATE inbox SET lease_until = ${at(now + Duration.toMillis(lease))}
        WHERE id = ${claim.entry.id} AND lease_token = ${claim.token} AND state = 'pending' AND lease_until >= ${at(now)}
        RETURNING lease_until`.pipe(
        orUnavailable("inbox.extend"),
        Effect.flatMap((rows) =>
          rows[0] === undefined
            ? Effect.fail(new LeaseLost({ entryId: claim.entry.id }))
            : Effect.succeed({ ...claim, leaseUntil: rows[0].lease_until.getTime() })
        )
      ),

    complete: (claim, turn) =>
      Effect.gen(function*() {
        const retired = yield* statements.retireInbox(claim.entry.id, claim.token, at(turn.at))
        if (retired.length === 0) return yield* new LeaseLost({ entryId: claim.entry.id })
        const messages = turn.messages.map((m): Record<string, unknown> => ({
          session_id: m.sessionId,
          subcontractor_id: m.userId,
          direction: m.direction,
          content: m.content,
          provider_message_id: m.providerMessageId ?? null,
          metadata: sql.json(m.metadata),
          created_at: at(m.createdAt)
        }))
        if (Arr.isReadonlyArrayNonEmpty(messages)) yield* statements.insertMessages(messages)
        if (turn.sessionId !== undefined) {
          yield* (turn.escalate ? statements.escalateSession : statements.touchSession)(turn.sessionId, at(turn.at))
        }
        const replies = turn.replies.map((r): Record<string, unknown> => ({
          reply_id: r.replyId,
          recipient: r.to,
          session_id: r.sessionId ?? null,
          payload: sql.json(encodeReply(r.reply)),
          available_at: at(turn.at),
          created_at: at(turn.at)
        }))
        if (Arr.isReadonlyArrayNonEmpty(replies)) yield* statements.insertReplies(replies)
      }).pipe(
        sql.withTransaction,
        Effect.catchTag("SqlError", fromSqlError("inbox.complete"))
      ),

    fail: (claim, error, now, policy) =>
      Effect.gen(function*() {
        const dead = claim.entry.attempts >= policy.maxAttempts
        const rows = yield* sql`
          UPDATE inbox SET
            lease_token = NULL, lease_until = NULL, last_error = ${error},
            state = ${dead ? "dead" : "pending"},
            failed_at = ${dead ? at(now) : null},
            available_at = ${at(now + (dead ? 0 : Duration.toMillis(policy.backoff(claim.entry.attempts))))}
          WHERE id = ${claim.entry.id} AND lease_token = ${claim.token} AND state = 'pending'
          RETURNING id`
        if (rows.length === 0) return yield* new LeaseLost({ entryId: claim.entry.id })
        if (dead) yield* sql`SELECT pg_notify(${inboxChannel}, '')`
        return dead ? "dead" as const : "retry" as const
      }).pipe(Effect.catchTag("SqlError", fromSqlError("inbox.fail"))),

    release: (claim) =>
      sql`
        UPDATE inbox SET lease_token = NULL, lease_until = NULL, attempts = attempts - 1
        WHERE id = ${claim.entry.id} AND lease_token = ${claim.token} AND state = 'pending'`.pipe(
        Effect.andThen(sql`SELECT pg_notify(${inboxChannel}, '')`),
        Effect.asVoid,
        orUnavailable("inbox.release")
      ),

    awaitWork: inboxSignal.wait,

    listDead: (limit) =>
      Effect.gen(function*() {
        const rows = yield* sql<ClaimedInboxRow & { last_error: string; failed_at: Date }>`
          SELECT id::text AS id, payload, attempts, accepted_at, last_error, failed_at
          FROM inbox WHERE state = 'dead' ORDER BY failed_at DESC LIMIT ${limit}`
        return yield* Effect.forEach(rows, (row) =>
          Effect.map(toEntry(row), (entry): DeadEntry => ({ entry, error: row.last_error ?? "", failedAt: row.failed_at.getTime() })))
      }).pipe(orUnavailable("inbox.listDead")),

    retryDead: (entryId, now) =>
      Effect.gen(function*() {
        const rows = yield* sql`
          UPDATE inbox SET state = 'pending', attempts = 0, available_at = ${at(now)}, failed_at = NULL
          WHERE id = ${entryId} AND state = 'dead' RETURNING id`
        if (rows.length > 0) yield* sql`SELECT pg_notify(${inboxChannel}, '')`
        return rows.length > 0
      }).pipe(orUnavailable("inbox.retryDead"))
  })

  const outbox = Outbox.of({
    claimDue: (now, limit, leaseMillis) =>
      Effect.gen(function*() {
        const rows = yield* statements.claimOutbox(at(now), limit, at(now + leaseMillis))
        return yield* Effect.forEach(
          // UPDATE … RETURNING does not keep the CTE's order.
          [...rows].sort((a, b) => Number(a.seq) - Number(b.seq)),
          (row) =>
            Effect.map(decodeReply(row.payload), (reply): OutboxEntry => ({
              replyId: row.reply_id,
              to: PhoneNumber.make(row.recipient),
              reply,
              attempts: row.attempts
            }))
        )
      }).pipe(orUnavailable("outbox.claimDue")),

    markSent: (replyId, providerMessageId, now) =>
      statements.markSent(replyId, providerMessageId, at(now)).pipe(Effect.asVoid, orUnavailable("outbox.markSent")),

    markFailed: (replyId, error, retryAt, now) =>
      sql`UPDATE outbox SET last_error = ${error},
            state = ${retryAt === undefined ? "dead" : "pending"},
            available_at = ${at(retryAt ?? now)}
          WHERE reply_id = ${replyId}`.pipe(Effect.asVoid, orUnavailable("outbox.markFailed")),

    awaitWork: (timeoutMillis) => outboxSignal.wait(Duration.millis(timeoutMillis)),

    sessionOfSent: (providerMessageId) =>
      sql<{ session_id: string | null }>`
        SELECT session_id::text AS session_id FROM outbox
        WHERE provider_message_id = ${providerMessageId} AND state = 'sent'
        LIMIT 1`.pipe(
        Effect.map((rows) => (rows[0]?.session_id == null ? undefined : SessionId.make(rows[0].session_id))),
        orUnavailable("outbox.sessionOfSent")
      ),

    // A dead reply's available_at is when it was parked: markFailed sets it to the failure's time.
    listDead: (limit) =>
      sql<{ reply_id: string; recipient: string; attempts: number; last_error: string | null; available_at: Date }>`
        SELECT reply_id, recipient, attempts, last_error, available_at FROM outbox
        WHERE state = 'dead' ORDER BY available_at DESC LIMIT ${limit}`.pipe(
        Effect.map((rows) =>
          rows.map((r): DeadReply => ({
            replyId: r.reply_id,
            to: PhoneNumber.make(r.recipient),
            attempts: r.attempts,
            error: r.last_error ?? "",
            failedAt: r.available_at.getTime()
          }))
        ),
        orUnavailable("outbox.listDead")
      ),

    retryDead: (replyId, now) =>
      Effect.gen(function*() {
        const rows = yield* sql`
          UPDATE outbox SET state = 'pending', attempts = 0, available_at = ${at(now)}
          WHERE reply_id = ${replyId} AND state = 'dead' RETURNING reply_id, pg_notify(${outboxChannel}, '')`
        return rows.length > 0
      }).pipe(orUnavailable("outbox.retryDead"))
  })

  const handoff = Handoff.of({
    notify: (request) =>
      sql`INSERT INTO handoffs (session_id, subcontractor_id, display_name, masked_phone, created_at)
          VALUES (${request.sessionId}, ${request.userId}, ${request.displayName}, ${request.maskedPhone}, ${at(request.at)})
          ON CONFLICT (session_id) DO NOTHING
          RETURNING session_id`.pipe(
        orUnavailable("handoff.notify"),
        Effect.flatMap((inserted) => (inserted.length > 0 ? logHandoff(request) : Effect.void))
      ),
    list: (limit) =>
      sql<{ session_id: string; subcontractor_id: string; display_name: string; masked_phone: string; created_at: Date }>`
        SELECT session_id::text AS session_id, subcontractor_id::text AS subcontractor_id, display_name, masked_phone, created_at
        FROM handoffs ORDER BY created_at DESC LIMIT ${limit}`.pipe(
        Effect.map((rows) =>
          rows.map((r) => ({
            sessionId: r.session_id,
            userId: r.subcontractor_id,
            displayName: r.display_name,
            maskedPhone: r.masked_phone,
            at: r.created_at.getTime()
          }) as HandoffRequest)
        ),
        orUnavailable("handoff.list")
      )
  })

  return Context.make(Inbox, inbox).pipe(Context.add(Outbox, outbox), Context.add(Handoff, handoff))
})

export const PgMessaging: Layer.Layer<Inbox | Outbox | Handoff, never, PgClient.PgClient> = Layer.effectContext(makePgMessaging)
