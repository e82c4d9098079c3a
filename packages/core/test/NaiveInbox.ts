import { Duration, Effect, Layer } from "effect"
import { type Claim, Inbox, type InboxEntry, LeaseLost } from "@parley/core"

/**
 * A queue that forgets the user: `claim` leases the oldest pending entry
 * nobody holds, as `FOR UPDATE SKIP LOCKED` alone would, so a user's second
 * message is claimed while the first is in flight. Kept to prove the inbox
 * property has teeth. With `dedupe: false` it also forgets redeliveries.
 */
export const NaiveInbox = (options: { readonly dedupe: boolean } = { dedupe: true }): Layer.Layer<Inbox> =>
  Layer.sync(Inbox, () => {
    const entries: Array<{ entry: InboxEntry; state: "pending" | "done"; token?: string; leaseUntil?: number; availableAt: number }> = []
    const seen = new Set<string>()
    let seq = 0
    const held = (claim: Claim) => entries.find((e) => e.entry.id === claim.entry.id && e.token === claim.token && e.state === "pending")
    return Inbox.of({
      accept: (messages, now) =>
        Effect.sync(() => {
          let accepted = 0
          for (const message of messages) {
            const key = `${message.provider}:${message.providerMessageId}`
            if (options.dedupe && seen.has(key)) continue
            seen.add(key)
            seq++
            entries.push({ entry: { id: String(seq), seq, message, attempts: 0, acceptedAt: now }, state: "pending", availableAt: now })
            accepted++
          }
          return { accepted, duplicates: messages.length - accepted }
        }),
      claim: (now, lease) =>
        // The round trip to the database: other workers run between the read and the write.
        Effect.yieldNow.pipe(Effect.andThen(Effect.sync(() => {
          const next = entries.find((e) => e.state === "pending" && e.availableAt <= now && (e.leaseUntil === undefined || e.leaseUntil < now))
          if (next === undefined) return undefined
          next.token = crypto.randomUUID()
          next.leaseUntil = now + Duration.toMillis(lease)
          next.entry = { ...next.entry, attempts: next.entry.attempts + 1 }
          return { entry: next.entry, token: next.token, leaseUntil: next.leaseUntil } satisfies Claim
        }))),
      extend: (claim, now, lease) =>
        Effect.suspend(() => {
          const e = held(claim)
          if (e === undefined) return Effect.fail(new LeaseLost({ entryId: claim.entry.id }))
          e.leaseUntil = now + Duration.toMillis(lease)
          return Effect.succeed({ ...claim, leaseUntil: e.leaseUntil })
        }),
      complete: (claim) =>
        Effect.suspend(() => {
          const e = held(claim)
          if (e === undefined) return Effect.fail(new LeaseLost({ entryId: claim.entry.id }))
          e.state = "done"
          return Effect.succeed({ more: true, leased: [] })
        }),
      fail: (claim, _error, now, policy) =>
        Effect.suspend(() => {
          const e = held(claim)
          if (e === undefined) return Effect.fail(new LeaseLost({ entryId: claim.entry.id }))
          delete e.token
          delete e.leaseUntil
          e.availableAt = now + Duration.toMillis(policy.backoff(claim.entry.attempts))
          return Effect.succeed("retry" as const)
        }),
      release: (claim) =>
        Effect.sync(() => {
          const e = held(claim)
          if (e === undefined) return
          delete e.token
          delete e.leaseUntil
          e.entry = { ...e.entry, attempts: e.entry.attempts - 1 }
        }),
      awaitWork: () => Effect.void,
      listDead: () => Effect.succeed([]),
      retryDead: () => Effect.succeed(false)
    })
  })
