import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { Handoff, type HandoffRequest } from "../Handoff.ts"
import type { SessionId, UserId } from "../Ids.ts"
import * as fc from "fast-check"
import { makeLogRecorder } from "./LogRecorder.ts"
import { checkProperty, failureReport, resolveRuns, type PropertyRuns } from "./PropertyRuns.ts"

export interface HandoffContractOptions<E, R> extends PropertyRuns {
  readonly layer: Layer.Layer<Handoff | R, E>
  /** A user and a session of theirs (on Postgres, real rows: a handoff references both). */
  readonly newSession: Effect.Effect<{ readonly userId: UserId; readonly sessionId: SessionId }, unknown, Handoff | R>
}

// Later than anything an earlier test recorded, so "newest" is this test's on a shared store.
let clock = Date.now()
const tick = () => (clock += 1_000)

const requestFor = (session: { readonly userId: UserId; readonly sessionId: SessionId }, displayName: string): HandoffRequest => ({
  ...session,
  displayName,
  maskedPhone: "+33•••••••78",
  at: tick()
})

/** The `Handoff` contract (see its doc comment), for every implementation. */
export const handoffContract = <E, R = never>(name: string, options: HandoffContractOptions<E, R>): void => {
  const { numRuns, seed } = resolveRuns(options, 20)
  describe(`Handoff contract: ${name}`, () => {
    layer(options.layer, { timeout: Duration.seconds(60) })((it) => {
      it.effect("notify records one handoff per session: notified again (a retried message), nothing changes and nothing is logged", () =>
        Effect.gen(function*() {
          const handoff = yield* Handoff
          const session = yield* options.newSession
          const logs = makeLogRecorder()
          const first = requestFor(session, "Karim")
          yield* handoff.notify(first).pipe(Effect.provide(logs.layer))
          yield* handoff.notify({ ...requestFor(session, "Karim again"), at: tick() }).pipe(Effect.provide(logs.layer))
          const mine = (yield* handoff.list(1_000)).filter((h) => h.sessionId === session.sessionId)
          assert.deepStrictEqual(mine, [first], "the first request is kept, once")
          const events = logs.events("handoff.requested")
          assert.strictEqual(events.length, 1, "one structured event for one handoff")
          assert.deepStrictEqual(
            [events[0]!.annotations["sessionId"], events[0]!.annotations["user"], events[0]!.annotations["phone"]],
            [session.sessionId, "Karim", "+33•••••••78"]
          )
        }))

      it.effect("list returns the latest handoffs, newest first, at most `limit`", () =>
        Effect.gen(function*() {
          const handoff = yield* Handoff
          const older = requestFor(yield* options.newSession, "Older")
          const newer = requestFor(yield* options.newSession, "Newer")
          yield* handoff.notify(older)
          yield* handoff.notify(newer)
          const all = yield* handoff.list(1_000)
          assert.deepStrictEqual(all.filter((h) => h.sessionId === older.sessionId || h.sessionId === newer.sessionId), [newer, older])
          assert.deepStrictEqual(yield* handoff.list(1), [newer])
        }))

      it.effect(`property: concurrent and repeated notifications record one handoff per session, never replaced (${numRuns} runs)`, () =>
        Effect.gen(function*() {
          const context = yield* Effect.context<Handoff | R>()
          const details = yield* checkProperty(
            handoffScheduleArbitrary,
            (schedule) => Effect.runPromiseWith(context)(runHandoffSchedule(schedule, options.newSession)),
            { numRuns, seed }
          )
          // The report names the seed and the shrunk schedule, so a failure can be replayed.
          assert.isFalse(details.failed, failureReport(details))
          assert.strictEqual(details.numRuns, numRuns)
        }))
    })
  })
}

const sameRequest = (a: HandoffRequest, b: HandoffRequest) =>
  a.sessionId === b.sessionId && a.userId === b.userId && a.displayName === b.displayName && a.maskedPhone === b.maskedPhone && a.at === b.at

/** Rounds of concurrent notifications, each naming one of a few sessions. */
export interface HandoffSchedule {
  readonly sessions: number
  readonly rounds: ReadonlyArray<ReadonlyArray<number>>
}

export const handoffScheduleArbitrary: fc.Arbitrary<HandoffSchedule> = fc.integer({ min: 1, max: 3 }).chain((sessions) =>
  fc.record({
    sessions: fc.constant(sessions),
    rounds: fc.array(fc.array(fc.integer({ min: 0, max: sessions - 1 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 })
  }))

/**
 * Runs one schedule and returns the violated invariants: [one] each notified
 * session has exactly one handoff, one of the requests made for it; [kept]
 * once recorded, later notifications never replace it.
 */
export const runHandoffSchedule = <R>(
  schedule: HandoffSchedule,
  newSession: Effect.Effect<{ readonly userId: UserId; readonly sessionId: SessionId }, unknown, Handoff | R>
) =>
  Effect.gen(function*() {
    const handoff = yield* Handoff
    const sessions = yield* Effect.forEach(Array.from({ length: schedule.sessions }), () => Effect.orDie(newSession))
    const requested = new Map<SessionId, Array<HandoffRequest>>(sessions.map((s) => [s.sessionId, []]))
    const kept = new Map<SessionId, HandoffRequest>()
    const violations: Array<string> = []
    for (const [index, round] of schedule.rounds.entries()) {
      const requests = round.map((i, j) => requestFor(sessions[i]!, `User ${i}.${index}.${j}`))
      for (const r of requests) requested.get(r.sessionId)!.push(r)
      yield* Effect.forEach(requests, (r) => handoff.notify(r), { concurrency: "unbounded", discard: true })
      const listed = (yield* handoff.list(10_000)).filter((h) => requested.has(h.sessionId))
      for (const [sessionId, made] of requested) {
        if (made.length === 0) continue
        const mine = listed.filter((h) => h.sessionId === sessionId)
        const which = sessions.findIndex((s) => s.sessionId === sessionId)
        if (mine.length !== 1 || !made.some((r) => sameRequest(r, mine[0]!))) {
          violations.push(`[one] round ${index}: session ${which} has ${mine.length} handoff(s): ${JSON.stringify(mine.map((h) => h.displayName))}`)
          continue
        }
        const before = kept.get(sessionId)
        if (before !== undefined && !sameRequest(before, mine[0]!)) {
          violations.push(`[kept] round ${index}: session ${which}'s handoff ${before.displayName} was replaced by ${mine[0]!.displayName}`)
        }
        kept.set(sessionId, mine[0]!)
      }
      if (violations.length > 0) return violations
    }
    return violations
  })
