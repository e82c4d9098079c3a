import { Duration, Effect } from "effect"
import * as fc from "fast-check"
import { Inbox, type Claim, type RetryPolicy } from "../Inbox.ts"
import { InboundMessage } from "../InboundMessage.ts"
import { PhoneNumber } from "../PhoneNumber.ts"

/**
 * A random schedule against an `Inbox`: webhooks with new messages of a
 * sender, redeliveries of an earlier webhook, and rounds of competing
 * workers that claim at once (after random yields), then complete or fail
 * what they hold.
 */
export type InboxStep =
  | { readonly _tag: "Accept"; readonly sender: number; readonly count: number }
  | { readonly _tag: "Redeliver"; readonly pick: number }
  | { readonly _tag: "Work"; readonly workers: ReadonlyArray<{ readonly pauses: number; readonly outcome: "complete" | "fail" }> }

export interface InboxSchedule {
  readonly senders: number
  readonly steps: ReadonlyArray<InboxStep>
}

export const inboxScheduleArbitrary: fc.Arbitrary<InboxSchedule> = fc.integer({ min: 1, max: 3 }).chain((senders) => {
  const accept = fc.record({ sender: fc.integer({ min: 0, max: senders - 1 }), count: fc.integer({ min: 1, max: 3 }) })
    .map((a): InboxStep => ({ _tag: "Accept", ...a }))
  const redeliver = fc.nat(20).map((pick): InboxStep => ({ _tag: "Redeliver", pick }))
  const work = fc.array(fc.record({ pauses: fc.nat(5), outcome: fc.constantFrom("complete" as const, "complete" as const, "fail" as const) }), { minLength: 1, maxLength: 4 })
    .map((workers): InboxStep => ({ _tag: "Work", workers }))
  const step = fc.oneof({ arbitrary: accept, weight: 4 }, { arbitrary: redeliver, weight: 1 }, { arbitrary: work, weight: 4 })
  return fc.record({ senders: fc.constant(senders), steps: fc.array(step, { minLength: 1, maxLength: 12 }) })
})

const lease = Duration.seconds(60)
// A failed entry is due again at once, so a retry can be raced by the same round's workers.
const retryAtOnce: RetryPolicy = { maxAttempts: 1_000, backoff: () => Duration.zero }

// Each run's time is later than every earlier run's, on a store the runs share.
let clock = Date.now()

/**
 * Runs one schedule and returns the violated invariants:
 * [accept] a new message is accepted once, a redelivery counted as a duplicate;
 * [in flight] never two entries of one sender claimed at once;
 * [order] a sender's entries are claimed in arrival order;
 * [once] after the workers drain, every accepted message was completed exactly once.
 * Entries of other senders (other tests on a shared store) are given back untouched.
 */
export const runInboxSchedule = (schedule: InboxSchedule) =>
  Effect.gen(function*() {
    const inbox = yield* Inbox
    const tag = crypto.randomUUID()
    const phones: Array<string> = Array.from({ length: schedule.senders }, () => PhoneNumber.make(`+3363${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`))
    const ours = new Set<string>(phones)
    const violations: Array<string> = []
    const batches: Array<ReadonlyArray<InboundMessage>> = []
    const arrived = new Map<string, Array<string>>(phones.map((p) => [p, []]))
    const completed = new Map<string, Array<string>>(phones.map((p) => [p, []]))
    let sequence = 0
    let now = (clock += 10_000_000)

    const complete = (claim: Claim) =>
      Effect.map(inbox.complete(claim, { messages: [], replies: [], escalate: false, at: now }), () =>
        void completed.get(claim.entry.message.from)!.push(claim.entry.message.providerMessageId))

    /** The oldest arrived and not completed message of the sender: the only one that may be claimed. */
    const head = (from: string) => arrived.get(from)!.find((id) => !completed.get(from)!.includes(id))

    for (const [index, step] of schedule.steps.entries()) {
      now += 1
      if (step._tag === "Accept") {
        const from = PhoneNumber.make(phones[step.sender]!)
        const batch = Array.from({ length: step.count }, () =>
          new InboundMessage({ provider: "meta", providerMessageId: `wamid.prop.${tag}.${sequence++}`, from, sentAt: now, content: { _tag: "Text", body: "hi" } }))
        const result = yield* inbox.accept(batch, now)
        if (result.accepted !== batch.length || result.duplicates !== 0) {
          violations.push(`[accept] step ${index}: ${batch.length} new messages, accepted ${result.accepted}, duplicates ${result.duplicates}`)
        }
        batches.push(batch)
        for (const m of batch) arrived.get(from)!.push(m.providerMessageId)
      }
      if (step._tag === "Redeliver" && batches.length > 0) {
        const batch = batches[step.pick % batches.length]!
        const result = yield* inbox.accept(batch, now)
        if (result.accepted !== 0 || result.duplicates !== batch.length) {
          violations.push(`[accept] step ${index}: a redelivery of ${batch.length} messages was accepted ${result.accepted} more time(s), ${result.duplicates} duplicates`)
        }
      }
      if (step._tag === "Work") {
        const at = now
        const claims = yield* Effect.forEach(step.workers, (worker) =>
          Effect.repeat(Effect.yieldNow, { times: worker.pauses }).pipe(Effect.andThen(inbox.claim(at, lease))), { concurrency: "unbounded" })
        const held = claims.filter((c): c is Claim => c !== undefined)
        const mine = held.map((c, i) => ({ claim: c, outcome: step.workers[i]!.outcome })).filter(({ claim }) => ours.has(claim.entry.message.from))
        const senders = mine.map(({ claim }) => claim.entry.message.from)
        for (const s of new Set(senders)) {
          const n = senders.filter((x) => x === s).length
          if (n > 1) violations.push(`[in flight] step ${index}: ${n} entries of sender ${phones.indexOf(s)} claimed at once`)
        }
        for (const { claim } of mine) {
          const expected = head(claim.entry.message.from)
          if (claim.entry.message.providerMessageId !== expected) {
            violations.push(`[order] step ${index}: sender ${phones.indexOf(claim.entry.message.from)}'s ${claim.entry.message.providerMessageId} claimed before ${expected}`)
          }
        }
        yield* Effect.forEach(mine, ({ claim, outcome }) =>
          outcome === "complete" ? complete(claim) : inbox.fail(claim, "contract: a failed attempt", at, retryAtOnce), { concurrency: "unbounded", discard: true })
        yield* Effect.forEach(held.filter((c) => !ours.has(c.entry.message.from)), (c) => inbox.release(c), { discard: true })
      }
      if (violations.length > 0) return violations
    }

    // Drain: one worker takes everything left; others' entries are held, then given back.
    now += 1
    const others: Array<Claim> = []
    while (true) {
      const claim = yield* inbox.claim(now, lease)
      if (claim === undefined) break
      if (ours.has(claim.entry.message.from)) yield* complete(claim)
      else others.push(claim)
    }
    yield* Effect.forEach(others, (c) => inbox.release(c), { discard: true })
    for (const [from, ids] of arrived) {
      const done = completed.get(from)!
      if (done.join(",") !== ids.join(",")) {
        violations.push(`[once] sender ${phones.indexOf(from)}: accepted ${JSON.stringify(ids)}, completed ${JSON.stringify(done)}`)
      }
    }
    return violations
  })
