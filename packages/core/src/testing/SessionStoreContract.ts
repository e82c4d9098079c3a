import { assert, describe, layer } from "@effect/vitest"
import { DateTime, Duration, Effect, Exit, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { newSessionId, UserId } from "../Ids.ts"
import { SessionStore } from "../SessionStore.ts"
import { failureReport, resolveRuns, type PropertyRuns } from "./PropertyRuns.ts"
import { defaultBounds, policy, runSchedule, scheduleArbitrary, type RunOptions, type ScheduleBounds } from "./SessionSchedule.ts"

export interface SessionStoreContractOptions<E, R> extends PropertyRuns {
  /** Built once for the whole suite; every test uses fresh users, so no reset is needed. */
  readonly layer: Layer.Layer<SessionStore | R, E>
  /** A user the store accepts. Defaults to a random UUID (stores without a users table). */
  readonly newUser?: Effect.Effect<UserId, unknown, SessionStore | R>
  readonly bounds?: ScheduleBounds
  /** Per-test timeout in milliseconds (the property test runs `numRuns` schedules). */
  readonly timeout?: number
}

export const randomUser: Effect.Effect<UserId, never, never> = Effect.sync(() => UserId.make(crypto.randomUUID()))

/**
 * Runs the schedule property once per generated schedule, each under a fresh
 * `TestClock`, and resolves fast-check's report. Shared by the contract suite
 * (which asserts it passes) and the negative tests (which assert it fails).
 */
export interface CheckOptions<R = never> {
  readonly numRuns: number
  readonly bounds?: ScheduleBounds | undefined
  readonly seed?: number | undefined
  readonly carry?: boolean | undefined
  readonly newUser?: Effect.Effect<UserId, unknown, SessionStore | R> | undefined
}

export const checkSessionStore = <R = never>(options: CheckOptions<R>) =>
  Effect.gen(function*() {
    const context = yield* Effect.context<SessionStore | R>()
    const run = Effect.runPromiseWith(context)
    const runOptions: RunOptions = {
      newUser: Effect.provideContext(options.newUser ?? randomUser, context),
      carry: options.carry ?? true
    }
    const property = fc.asyncProperty(scheduleArbitrary(options.bounds ?? defaultBounds), async (schedule) => {
      const violations = await run(runSchedule(schedule, runOptions).pipe(Effect.provide(TestClock.layer())))
      if (violations.length > 0) throw new Error(violations.join("\n"))
    })
    return yield* Effect.promise(() =>
      fc.check(property, { numRuns: options.numRuns, ...(options.seed === undefined ? {} : { seed: options.seed }) })
    )
  })

/**
 * The `SessionStore` contract: deterministic cases for each operation, then the
 * property test over random concurrent schedules. Any adapter runs the very
 * same suite: `sessionStoreContract("Postgres", { layer })`.
 */
export const sessionStoreContract = <E, R = never>(name: string, options: SessionStoreContractOptions<E, R>): void => {
  const { numRuns, seed } = resolveRuns(options, 100)
  const timeout = options.timeout ?? 60_000
  const newUser = options.newUser ?? randomUser

  describe(`SessionStore contract: ${name}`, () => {
    layer(options.layer, { timeout: Duration.millis(timeout) })((it) => {
      it.effect("creates, then reuses while not idle", () =>
        Effect.gen(function*() {
          const store = yield* SessionStore
          const user = yield* newUser
          const t0 = yield* DateTime.now
          const first = yield* store.getOrCreateActive(user, t0, policy)
          assert.strictEqual(first.outcome, "created")
          assert.strictEqual(first.session.status, "active")
          assert.strictEqual(first.session.userId, user)
          const t1 = DateTime.add(t0, { minutes: 30 })
          const second = yield* store.getOrCreateActive(user, t1, policy)
          assert.strictEqual(second.outcome, "reused", "exactly at the timeout is not idle yet")
          assert.strictEqual(second.session.id, first.session.id)
          assert.isTrue(DateTime.Equivalence(second.session.lastMessageAt, t1))
        }))

      it.effect("ends an idle session with timeout and creates its successor in one step", () =>
        Effect.gen(function*() {
          const store = yield* SessionStore
          const user = yield* newUser
          const t0 = yield* DateTime.now
          const first = yield* store.getOrCreateActive(user, t0, policy)
          const later = DateTime.add(t0, { minutes: 30, milliseconds: 1 })
          const next = yield* store.getOrCreateActive(user, later, policy)
          assert.strictEqual(next.outcome, "expired_then_created")
          assert.notStrictEqual(next.session.id, first.session.id)
          const old = yield* store.findById(first.session.id)
          assert.strictEqual(old.status, "ended")
          assert.deepStrictEqual(old.endReason, Option.some("timeout"))
          assert.isTrue(Option.isSome(old.endedAt))
          const sessions = yield* store.listByUser(user)
          assert.deepStrictEqual(sessions.map((s) => s.id), [next.session.id, first.session.id], "newest first")
        }))

      it.effect("touch moves lastMessageAt forward only", () =>
        Effect.gen(function*() {
          const store = yield* SessionStore
          const user = yield* newUser
          const t0 = yield* DateTime.now
          const { session } = yield* store.getOrCreateActive(user, t0, policy)
          const t2 = DateTime.add(t0, { minutes: 10 })
          yield* store.touch(session.id, t2)
          const back = yield* store.touch(session.id, DateTime.add(t0, { minutes: 5 }))
          assert.isTrue(DateTime.Equivalence(back.lastMessageAt, t2))
          // Activity keeps the session alive past the timeout measured from its start.
          const reused = yield* store.getOrCreateActive(user, DateTime.add(t2, { minutes: 25 }), policy)
          assert.strictEqual(reused.outcome, "reused")
        }))

      it.effect("escalate and end leave no active session; the next message creates one", () =>
        Effect.gen(function*() {
          const store = yield* SessionStore
          const user = yield* newUser
          const t0 = yield* DateTime.now
          const a = yield* store.getOrCreateActive(user, t0, policy)
          const escalated = yield* store.escalate(a.session.id, t0)
          assert.strictEqual(escalated.status, "escalated")
          assert.deepStrictEqual(escalated.endReason, Option.some("escalated"))
          const b = yield* store.getOrCreateActive(user, t0, policy)
          assert.strictEqual(b.outcome, "created")
          const ended = yield* store.end(b.session.id, "manual", t0)
          assert.strictEqual(ended.status, "ended")
          assert.deepStrictEqual(ended.endReason, Option.some("manual"))
          const c = yield* store.getOrCreateActive(user, t0, policy)
          assert.strictEqual(c.outcome, "created")
          assert.strictEqual((yield* store.listByUser(user)).filter((s) => s.isActive).length, 1)
        }))

      it.effect("typed errors: unknown id, and writes to a finished session", () =>
        Effect.gen(function*() {
          const store = yield* SessionStore
          const user = yield* newUser
          const t0 = yield* DateTime.now
          const missing = yield* Effect.exit(store.findById(newSessionId()))
          assert.isTrue(Exit.isFailure(missing))
          assert.strictEqual(yield* Effect.flip(store.findById(newSessionId())).pipe(Effect.map((e) => e._tag)), "SessionNotFound")
          const { session } = yield* store.getOrCreateActive(user, t0, policy)
          yield* store.end(session.id, "manual", t0)
          const touchErr = yield* Effect.flip(store.touch(session.id, t0))
          assert.strictEqual(touchErr._tag, "SessionNotActive")
          const escalateErr = yield* Effect.flip(store.escalate(session.id, t0))
          assert.strictEqual(escalateErr._tag, "SessionNotActive")
        }))

      it.effect("concurrent first messages of one user create exactly one session", () =>
        Effect.gen(function*() {
          const store = yield* SessionStore
          const user = yield* newUser
          const t0 = yield* DateTime.now
          const results = yield* Effect.forEach(
            Array.from({ length: 32 }),
            () => store.getOrCreateActive(user, t0, policy),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(new Set(results.map((r) => r.session.id)).size, 1)
          assert.strictEqual(results.filter((r) => r.outcome === "created").length, 1)
          assert.strictEqual((yield* store.listByUser(user)).length, 1)
        }))

      it.effect(`property: random concurrent schedules keep every invariant (${numRuns} runs)`, () =>
        Effect.gen(function*() {
          const details = yield* checkSessionStore({ numRuns, seed, bounds: options.bounds, newUser })
          // fast-check's report names the seed and the shrunk schedule, so a failure can be replayed.
          assert.isFalse(details.failed, failureReport(details))
          assert.strictEqual(details.numRuns, numRuns)
        }))
    })
  })
}
