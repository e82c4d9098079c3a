import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { Handoff, type HandoffRequest } from "../../escalation/Handoff.ts"
import type { SessionId, UserId } from "../../identity/Ids.ts"
import { makeLogRecorder } from "../doubles/LogRecorder.ts"

export interface HandoffContractOptions<E, R> {
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
    })
  })
}
