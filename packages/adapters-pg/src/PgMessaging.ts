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
  senderKeyOf,
  SessionId,
  UserAddress,
  type Claim,
  type Completed,
  type DeadEntry,
  type DeadReply,
  type HandoffRequest,
  type InboxEntry,
  type OutboxEntry
} from "@parley/core"
import { Array as Arr, Context, Duration, Effect, Layer, Option, Schema } from "effect"
import { orUnavailable } from "./mapSqlError.ts"
import { inboxChannel, messagingSql, outboxChannel, type AcceptedRow, type ClaimedInboxRow } from "./MessagingSql.ts"
import { makePgListener, PgListener } from "./PgListener.ts"

const encodeInbound = Schema.encodeSync(InboundMessage)
const decodeInbound = Schema.decodeUnknownEffect(InboundMessage)
const encodeReply = Schema.encodeSync(Reply)
const decodeReply = Schema.decodeUnknownEffect(Reply)
const decodeAddress = Schema.decodeUnknownEffect(UserAddress)

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
 * - Each sender's messages form a queue (`inbox_queues`, migration 0007),
 *   numbered in commit order under the queue's lock; a claim leases only a
 *   queue's head, skipping locked queues: workers in any number of processes
 *   never wait on each other, one message per user is in flight, in order.
 * - `complete` is one statement (`parley_commit_turn`, so one transaction and
 *   one round trip): the lease check (`lease_token`) fences out a worker that
 *   lost its lease, then the turn's messages, the session's activity or
 *   escalation and the replies are written with the inbox row.
 * - Idle workers sleep on `LISTEN parley_inbox` (see `PgListener`: it comes
 *   back by itself, and workers poll fast while it is down); `accept` and
 *   `release` notify. A poll timeout stays as the safety net.
 */
export const makePgMessaging = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const statements = messagingSql(sql)
  const inboxSignal = makeWakeSignal()
  const outboxSignal = makeWakeSignal()

  // One listening connection per channel and process fans notifications out to every idle worker:
  // the server's listener (a direct connection behind a transaction pooler), else one on this client.
  const listener = yield* Effect.serviceOption(PgListener).pipe(
    Effect.flatMap(Option.match({ onSome: Effect.succeed, onNone: () => makePgListener(sql) }))
  )
  yield* listener.hold([
    { channel: inboxChannel, onNotify: inboxSignal.notify },
    { channel: outboxChannel, onNotify: outboxSignal.notify }
  ])

  const at = (millis: number) => new Date(millis)

  // What a statement NOTIFYs reaches this process's own LISTEN too: a direct
  // wake-up beside it would bring in a second idle worker (or sender) for an
  // empty claim. Only while not listening does this process wake its own.
  const wakeLocally = (signal: typeof inboxSignal) =>
    Effect.flatMap(listener.status, (status) => (status.listening ? Effect.void : signal.notify))

  const inbox = Inbox.of({
    accept: (messages, now) =>
      Effect.gen(function*() {
        const rows = messages.map((m): AcceptedRow => ({
          provider: m.provider,
          provider_message_id: m.providerMessageId,
          // A user's queue: their BSUID when the provider sends one, else their address (see senderKeyOf).
          sender: senderKeyOf(m),
          payload: encodeInbound(m)
        }))
        if (!Arr.isReadonlyArrayNonEmpty(rows)) return { accepted: 0, duplicates: 0 }
        const inserted = yield* statements.acceptInbox(rows, at(now))
        if (inserted.length > 0) yield* wakeLocally(inboxSignal)
        return { accepted: inserted.length, duplicates: messages.length - inserted.length }
      }).pipe(orUnavailable("inbox.accept")),

    claim: (now, lease) =>
      Effect.gen(function*() {
        const rows = yield* statements.claimInbox(at(now), at(now + Duration.toMillis(lease)))
        const row = rows[0]
        if (row === undefined) return undefined
        // Another queue is ready too: the wake-up passes on to one more idle worker (a burst brings them all in).
        if (row.more) yield* inboxSignal.notify
        const entry = yield* toEntry(row)
        return { entry, token: row.lease_token, leaseUntil: row.lease_until.getTime() } satisfies Claim
      }).pipe(orUnavailable("inbox.claim")),

    extend: (claim, now, lease) =>
      statements.extendInbox(claim.entry.id, claim.token, at(now), at(now + Duration.toMillis(lease))).pipe(
        orUnavailable("inbox.extend"),
        Effect.flatMap((rows) => {
          const leaseUntil = rows[0]?.lease_until
          return leaseUntil == null
            ? Effect.fail(new LeaseLost({ entryId: claim.entry.id }))
            : Effect.succeed({ ...claim, leaseUntil: leaseUntil.getTime() })
        })
      ),

    complete: (claim, turn, options) => {
      const now = options?.now ?? turn.at
      const first = turn.replies[0]
      return statements.commitTurn({
        id: claim.entry.id,
        token: claim.token,
        at: at(turn.at),
        now: at(now),
        leaseUntil: options?.leaseRepliesFor === undefined ? null : at(now + options.leaseRepliesFor),
        sessionId: turn.sessionId ?? null,
        escalate: turn.escalate,
        messages: turn.messages.map((m) => ({
          session_id: m.sessionId,
          subcontractor_id: m.userId,
          direction: m.direction,
          content: m.content,
          provider_message_id: m.providerMessageId ?? null,
          metadata: m.metadata,
          created_at: at(m.createdAt)
        })),
        replies: turn.replies.map((r) => ({
          reply_id: r.replyId,
          recipient: r.to,
          session_id: r.sessionId ?? null,
          payload: encodeReply(r.reply)
        }))
      }).pipe(
        orUnavailable("inbox.complete"),
        Effect.flatMap(([row]) => {
          if (row?.committed !== true) return Effect.fail(new LeaseLost({ entryId: claim.entry.id }))
          const leased: ReadonlyArray<OutboxEntry> = first !== undefined && row.leased_reply_id === first.replyId && row.leased_token !== null
            ? [{ ...first, attempts: 1, token: row.leased_token }]
            : []
          // A reply the senders can claim now woke them (NOTIFY); this process's directly when it is not listening.
          return Effect.as(row.notified ? wakeLocally(outboxSignal) : Effect.void, { more: row.more, leased } satisfies Completed)
        })
      )
    },

    fail: (claim, error, now, policy) =>
      Effect.gen(function*() {
        const dead = claim.entry.attempts >= policy.maxAttempts
        const retryAt = at(now + (dead ? 0 : Duration.toMillis(policy.backoff(claim.entry.attempts))))
        const [row] = yield* statements.settleInbox(claim.entry.id, claim.token, dead ? "dead" : "retry", at(now), retryAt, error)
        if (row?.held !== true) return yield* new LeaseLost({ entryId: claim.entry.id })
        return dead ? "dead" as const : "retry" as const
      }).pipe(orUnavailable("inbox.fail")),

    release: (claim) =>
      statements.settleInbox(claim.entry.id, claim.token, "release", new Date()).pipe(Effect.asVoid, orUnavailable("inbox.release")),

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
      sql<{ retried: boolean }>`SELECT parley_inbox_retry_dead(${entryId}, ${at(now)}, ${inboxChannel}) AS retried`.pipe(
        Effect.map((rows) => rows[0]?.retried === true),
        orUnavailable("inbox.retryDead")
      )
  })

  const outbox = Outbox.of({
    claimDue: (now, limit, leaseMillis) =>
      Effect.gen(function*() {
        const rows = yield* statements.claimOutbox(at(now), limit, at(now + leaseMillis))
        return yield* Effect.forEach(
          // UPDATE … RETURNING does not keep the CTE's order.
          [...rows].sort((a, b) => Number(a.seq) - Number(b.seq)),
          (row) =>
            Effect.map(Effect.all([decodeReply(row.payload), decodeAddress(row.recipient)]), ([reply, to]): OutboxEntry => ({
              replyId: row.reply_id,
              to,
              reply,
              attempts: row.attempts,
              token: row.lease_token
            }))
        )
      }).pipe(orUnavailable("outbox.claimDue")),

    markSent: (entry, providerMessageId, now) =>
      statements.markSent(entry.replyId, providerMessageId, at(now)).pipe(
        Effect.map(([row]) => ({ outcome: row?.first === true ? "sent" as const : "duplicate" as const, more: row?.more === true })),
        orUnavailable("outbox.markSent")
      ),

    markFailed: (entry, error, retryAt, now) =>
      statements.markFailed(entry.replyId, entry.token, error, retryAt === undefined ? null : at(retryAt), at(now)).pipe(
        Effect.map((rows) => (rows.length > 0 ? "recorded" as const : "stale" as const)),
        orUnavailable("outbox.markFailed")
      ),

    awaitWork: (timeoutMillis) => outboxSignal.wait(Duration.millis(timeoutMillis)),

    sessionOfSent: (providerMessageId) =>
      statements.sessionOfSent(providerMessageId).pipe(
        Effect.map((rows) => (rows[0]?.session_id == null ? undefined : SessionId.make(rows[0].session_id))),
        orUnavailable("outbox.sessionOfSent")
      ),

    // A dead reply's available_at is when it was parked: markFailed sets it to the failure's time.
    listDead: (limit) =>
      sql<{ reply_id: string; recipient: string; attempts: number; last_error: string | null; available_at: Date }>`
        SELECT reply_id, recipient, attempts, last_error, available_at FROM outbox
        WHERE state = 'dead' ORDER BY available_at DESC LIMIT ${limit}`.pipe(
        Effect.flatMap((rows) =>
          Effect.forEach(rows, (r) =>
            Effect.map(decodeAddress(r.recipient), (to): DeadReply => ({
              replyId: r.reply_id,
              to,
              attempts: r.attempts,
              error: r.last_error ?? "",
              failedAt: r.available_at.getTime()
            })))
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
