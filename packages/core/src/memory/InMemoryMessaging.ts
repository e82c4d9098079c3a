import { Context, DateTime, Duration, Effect, Layer } from "effect"
import { makeWakeSignal } from "../intake/WakeSignal.ts"
import { senderKeyOf, type InboundMessage } from "../channel/InboundMessage.ts"
import { Inbox, LeaseLost, type Claim, type Completed, type DeadEntry, type InboxEntry } from "../intake/Inbox.ts"
import { Outbox, type DeadReply, type OutboxEntry } from "../delivery/Outbox.ts"
import { SessionStore } from "../session/SessionStore.ts"
import { MessageStore, StoredMessage } from "../conversation/StoredMessage.ts"

interface Row {
  entry: InboxEntry
  state: "pending" | "done" | "dead"
  availableAt: number
  token?: string | undefined
  leaseUntil?: number | undefined
  error?: string | undefined
  failedAt?: number | undefined
}

interface OutRow {
  entry: OutboxEntry
  state: "pending" | "sent" | "dead"
  availableAt: number
  /** Every provider id the reply went out under (a copy sent by a stale claim included). */
  providerMessageIds: Array<string>
  /** Why and when it was parked, for `listDead`. */
  dead?: { readonly error: string; readonly at: number }
}

/**
 * `Inbox`, `Outbox` and `MessageStore` over one in-process state, so a turn is
 * committed with its inbox entry in one step as the Postgres adapter does in
 * one transaction. Needs a `SessionStore` for the turn's session activity.
 */
export const makeInMemoryMessaging = Effect.gen(function*() {
  const sessions = yield* SessionStore
  const rows: Array<Row> = []
  const byKey = new Map<string, Row>()
  const messages: Array<StoredMessage> = []
  const outbox: Array<OutRow> = []
  const inboxSignal = makeWakeSignal()
  const outboxSignal = makeWakeSignal()
  let seq = 0
  let tokens = 0

  const owned = (claim: Claim): Row | undefined => {
    const row = byKey.get(claim.entry.id)
    return row?.state === "pending" && row.token === claim.token ? row : undefined
  }

  const appendMessages = (turnMessages: ReadonlyArray<Omit<StoredMessage, "id">>) => {
    for (const m of turnMessages) messages.push(new StoredMessage({ ...m, id: crypto.randomUUID() }))
  }

  /**
   * The head of each sender's queue (its oldest pending entry) that may be
   * claimed at `now`: due and not leased. Entries join a queue at its end (a
   * retried dead one too), so only a head is ever leased: a leased head is
   * the sender's one message in flight, as on Postgres.
   */
  const claimableHead = (now: number): Row | undefined => {
    const seen = new Set<string>()
    for (const row of rows) {
      if (row.state !== "pending") continue
      const sender = senderKeyOf(row.entry.message)
      if (seen.has(sender)) continue
      seen.add(sender)
      const leased = row.leaseUntil !== undefined && row.leaseUntil > now
      if (!leased && row.availableAt <= now) return row
    }
    return undefined
  }

  /** A recipient's pending replies, oldest first. */
  const pendingOf = (to: OutboxEntry["to"]) => outbox.filter((r) => r.state === "pending" && r.entry.to === to)

  const inbox = Inbox.of({
    accept: (incoming: ReadonlyArray<InboundMessage>, now) =>
      Effect.andThen(
        Effect.sync(() => {
          let accepted = 0
          for (const message of incoming) {
            const id = `${message.provider}:${message.providerMessageId}`
            if (byKey.has(id)) continue
            const row: Row = { entry: { id, seq: ++seq, message, attempts: 0, acceptedAt: now }, state: "pending", availableAt: now }
            rows.push(row)
            byKey.set(id, row)
            accepted++
          }
          return { accepted, duplicates: incoming.length - accepted }
        }),
        (result) => Effect.as(result.accepted > 0 ? inboxSignal.notify : Effect.void, result)
      ),

    claim: (now, lease) =>
      Effect.sync(() => {
        const row = claimableHead(now)
        if (row === undefined) return undefined
        row.token = String(++tokens)
        row.leaseUntil = now + Duration.toMillis(lease)
        row.entry = { ...row.entry, attempts: row.entry.attempts + 1 }
        // Another queue is ready too: the wake-up passes on to one more idle worker, as on Postgres.
        return { claim: { entry: row.entry, token: row.token, leaseUntil: row.leaseUntil } satisfies Claim, more: claimableHead(now) !== undefined }
      }).pipe(
        Effect.flatMap((found) => (found?.more === true ? Effect.as(inboxSignal.notify, found.claim) : Effect.succeed(found?.claim)))
      ),

    extend: (claim, now, lease) =>
      Effect.suspend(() => {
        const row = owned(claim)
        if (row === undefined || (row.leaseUntil ?? 0) < now) return Effect.fail(new LeaseLost({ entryId: claim.entry.id }))
        row.leaseUntil = now + Duration.toMillis(lease)
        return Effect.succeed({ ...claim, leaseUntil: row.leaseUntil })
      }),

    complete: (claim, turn, options) =>
      Effect.gen(function*() {
        const now = options?.now ?? turn.at
        const row = owned(claim)
        if (row === undefined) {
          // Retried after this claim already committed (its answer lost): the reply it leased is handed back.
          const first = turn.replies[0]
          const leased = first === undefined || options?.leaseRepliesFor === undefined
            ? undefined
            : outbox.find((r) => r.entry.replyId === first.replyId && r.state === "pending" && r.entry.token === claim.token)
          if (leased !== undefined && options?.leaseRepliesFor !== undefined) {
            // Its lease starts again now: the caller takes a whole lease to send it and record that.
            leased.availableAt = now + options.leaseRepliesFor
            return { more: true, leased: [leased.entry] } satisfies Completed
          }
          return yield* new LeaseLost({ entryId: claim.entry.id })
        }
        row.state = "done"
        appendMessages(turn.messages)
        if (turn.sessionId !== undefined) {
          const at = DateTime.makeUnsafe(turn.at)
          const session = turn.escalate ? sessions.escalate(turn.sessionId, at) : sessions.touch(turn.sessionId, at)
          // The session may have ended since it was resolved (timeout by a later
          // message is impossible: the user's messages are serialised); the
          // messages still belong to it, which is the guarantee that matters.
          yield* session.pipe(Effect.catchTags({ SessionNotActive: () => Effect.void, SessionNotFound: () => Effect.void }))
        }
        // The turn's first reply is leased to the caller when nothing of its recipient is pending before it.
        const first = turn.replies[0]
        const lease = options?.leaseRepliesFor !== undefined && first !== undefined && pendingOf(first.to).length === 0
          ? { token: claim.token, until: now + options.leaseRepliesFor }
          : undefined
        const leased: Array<OutboxEntry> = []
        turn.replies.forEach((reply, i) => {
          if (i === 0 && lease !== undefined) {
            const entry: OutboxEntry = { ...reply, attempts: 1, token: lease.token }
            outbox.push({ entry, state: "pending", availableAt: lease.until, providerMessageIds: [] })
            leased.push(entry)
          } else {
            outbox.push({ entry: { ...reply, attempts: 0, token: "" }, state: "pending", availableAt: turn.at, providerMessageIds: [] })
          }
        })
        // The committing worker claims next when there is more (and passes the wake-up on if it finds it).
        const more = claimableHead(now) !== undefined
        // Replies behind the one leased here are claimed once it is marked sent (`more`): no wake-up for them.
        if (lease === undefined && turn.replies.length > 0) yield* outboxSignal.notify
        return { more, leased } satisfies Completed
      }).pipe(Effect.uninterruptible),

    fail: (claim, error, now, policy) =>
      Effect.gen(function*() {
        const row = owned(claim)
        if (row === undefined) return yield* new LeaseLost({ entryId: claim.entry.id })
        row.token = undefined
        row.leaseUntil = undefined
        row.error = error
        if (row.entry.attempts >= policy.maxAttempts) {
          row.state = "dead"
          row.failedAt = now
          yield* inboxSignal.notify
          return "dead" as const
        }
        row.availableAt = now + Duration.toMillis(policy.backoff(row.entry.attempts))
        return "retry" as const
      }),

    release: (claim) =>
      Effect.suspend(() => {
        const row = owned(claim)
        if (row === undefined) return Effect.void
        row.token = undefined
        row.leaseUntil = undefined
        row.entry = { ...row.entry, attempts: row.entry.attempts - 1 }
        return inboxSignal.notify
      }),

    awaitWork: inboxSignal.wait,

    listDead: (limit) =>
      Effect.sync(() =>
        rows.filter((r) => r.state === "dead").slice(0, limit).map((r): DeadEntry => ({
          entry: r.entry,
          error: r.error ?? "",
          failedAt: r.failedAt ?? 0
        }))
      ),

    retryDead: (entryId, now) =>
      Effect.suspend(() => {
        const row = byKey.get(entryId)
        if (row?.state !== "dead") return Effect.succeed(false)
        // Back at the end of its user's queue: what was processed since it died is not overtaken.
        rows.splice(rows.indexOf(row), 1)
        rows.push(row)
        row.state = "pending"
        row.availableAt = now
        row.entry = { ...row.entry, seq: ++seq, attempts: 0 }
        return Effect.as(inboxSignal.notify, true)
      })
  })

  const outboxService = Outbox.of({
    claimDue: (now, limit, leaseMillis) =>
      Effect.sync(() => {
        // Only each recipient's oldest pending reply is a candidate, as in the Postgres outbox.
        const heads = new Map<string, OutRow>()
        for (const r of outbox) if (r.state === "pending" && !heads.has(r.entry.to)) heads.set(r.entry.to, r)
        const due = [...heads.values()].filter((r) => r.availableAt <= now).slice(0, limit)
        for (const r of due) {
          r.availableAt = now + leaseMillis
          r.entry = { ...r.entry, attempts: r.entry.attempts + 1, token: String(++tokens) }
        }
        return due.map((r) => r.entry)
      }),
    markSent: (entry, providerMessageId) =>
      Effect.sync(() => {
        const row = outbox.find((r) => r.entry.replyId === entry.replyId)
        if (row === undefined) return { outcome: "duplicate" as const, more: pendingOf(entry.to).length > 0 }
        if (!row.providerMessageIds.includes(providerMessageId)) row.providerMessageIds.push(providerMessageId)
        const outcome = row.state === "pending" ? "sent" as const : "duplicate" as const
        if (outcome === "sent") row.state = "sent"
        return { outcome, more: pendingOf(entry.to).length > 0 }
      }),
    markFailed: (entry, error, retryAt, now) =>
      Effect.sync(() => {
        const row = outbox.find((r) => r.entry.replyId === entry.replyId)
        if (row === undefined || row.state !== "pending" || row.entry.token !== entry.token) return "stale" as const
        if (retryAt === undefined) [row.state, row.dead] = ["dead", { error, at: now }]
        else row.availableAt = retryAt
        // The claim is spent: a later failure reported under it is stale.
        row.entry = { ...row.entry, token: "" }
        return "recorded" as const
      }),
    awaitWork: (timeoutMillis) => outboxSignal.wait(Duration.millis(timeoutMillis)),
    sessionOfSent: (providerMessageId) =>
      Effect.sync(() => outbox.find((r) => r.providerMessageIds.includes(providerMessageId))?.entry.sessionId),
    listDead: (limit) =>
      Effect.sync(() =>
        outbox.filter((r) => r.state === "dead")
          .sort((a, b) => (b.dead?.at ?? 0) - (a.dead?.at ?? 0))
          .slice(0, limit)
          .map((r): DeadReply => ({ replyId: r.entry.replyId, to: r.entry.to, attempts: r.entry.attempts, error: r.dead?.error ?? "", failedAt: r.dead?.at ?? 0 }))
      ),
    retryDead: (replyId, now) =>
      Effect.suspend(() => {
        const row = outbox.find((r) => r.entry.replyId === replyId)
        if (row?.state !== "dead") return Effect.succeed(false)
        row.state = "pending"
        row.availableAt = now
        row.entry = { ...row.entry, attempts: 0 }
        delete row.dead
        return Effect.as(outboxSignal.notify, true)
      })
  })

  const messageStore = MessageStore.of({
    append: (message) =>
      Effect.sync(() => {
        const stored = new StoredMessage({ ...message, id: crypto.randomUUID() })
        messages.push(stored)
        return stored
      }),
    recent: (sessionId, limit) =>
      Effect.sync(() => messages.filter((m) => m.sessionId === sessionId).reverse().slice(0, limit))
  })

  return {
    inbox,
    outbox: outboxService,
    messageStore,
    /** For tests and the admin view: everything recorded, in commit order. */
    inspect: Effect.sync(() => ({
      messages: [...messages],
      outbox: outbox.map((r) => ({ ...r.entry, state: r.state })),
      inbox: rows.map((r) => ({ entry: r.entry, state: r.state }))
    }))
  }
})

export interface InMemoryMessagingSnapshot {
  readonly messages: ReadonlyArray<StoredMessage>
  readonly outbox: ReadonlyArray<OutboxEntry & { readonly state: "pending" | "sent" | "dead" }>
  readonly inbox: ReadonlyArray<{ readonly entry: InboxEntry; readonly state: "pending" | "done" | "dead" }>
}

/** Read access to the in-memory state, for tests and embedders' admin views. */
export class InMemoryMessaging extends Context.Service<InMemoryMessaging, {
  readonly inspect: Effect.Effect<InMemoryMessagingSnapshot>
}>()("@parley/core/InMemoryMessaging") {}

export const InMemoryMessagingLayer: Layer.Layer<Inbox | Outbox | MessageStore | InMemoryMessaging, never, SessionStore> =
  Layer.effectContext(
    Effect.map(makeInMemoryMessaging, (m) =>
      Context.make(Inbox, m.inbox).pipe(
        Context.add(Outbox, m.outbox),
        Context.add(MessageStore, m.messageStore),
        Context.add(InMemoryMessaging, InMemoryMessaging.of({ inspect: m.inspect }))
      ))
  )
