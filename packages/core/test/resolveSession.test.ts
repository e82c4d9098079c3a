import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric, Option } from "effect"
import { TestClock } from "effect/testing"
import { newSessionId, resolveSession, sessionResolutions, SessionStore, UserId } from "@parley/core"
import { InMemorySessionStore } from "@parley/core/memory"

const user = UserId.make("u-1")
const other = UserId.make("u-2")

const resolutions = (outcome: string) =>
  Metric.value(Metric.withAttributes(sessionResolutions, { outcome })).pipe(Effect.map((s) => s.count))

describe("resolveSession", () => {
  it.effect("resolves once, then every carried resolution returns the same session without creating", () =>
    Effect.gen(function*() {
      const first = yield* resolveSession(user)
      assert.strictEqual(first.outcome, "created")
      for (let i = 0; i < 3; i++) {
        const again = yield* resolveSession(user, Option.some(first.session.id))
        assert.strictEqual(again.outcome, "carried")
        assert.strictEqual(again.session.id, first.session.id)
      }
      assert.strictEqual((yield* (yield* SessionStore).listByUser(user)).length, 1)
      assert.strictEqual(yield* resolutions("carried"), 3)
      assert.strictEqual(yield* resolutions("created"), 1)
    }).pipe(Effect.provide(InMemorySessionStore)))

  it.effect("a carried session that ended falls back to get-or-create", () =>
    Effect.gen(function*() {
      const store = yield* SessionStore
      const first = yield* resolveSession(user)
      yield* store.escalate(first.session.id, first.session.startedAt)
      const next = yield* resolveSession(user, Option.some(first.session.id))
      assert.strictEqual(next.outcome, "created")
      assert.notStrictEqual(next.session.id, first.session.id)
    }).pipe(Effect.provide(InMemorySessionStore)))

  it.effect("a carried id that is unknown, or another user's, is not trusted", () =>
    Effect.gen(function*() {
      const theirs = yield* resolveSession(other)
      const missing = yield* resolveSession(user, Option.some(newSessionId()))
      assert.strictEqual(missing.outcome, "created")
      const stolen = yield* resolveSession(user, Option.some(theirs.session.id))
      assert.strictEqual(stolen.outcome, "reused")
      assert.strictEqual(stolen.session.id, missing.session.id)
      assert.strictEqual(stolen.session.userId, user)
    }).pipe(Effect.provide(InMemorySessionStore)))

  it.effect("an idle gap past the policy's timeout expires the session", () =>
    Effect.gen(function*() {
      const first = yield* resolveSession(user)
      yield* TestClock.adjust("31 minutes")
      const next = yield* resolveSession(user)
      assert.strictEqual(next.outcome, "expired_then_created")
      const old = yield* (yield* SessionStore).findById(first.session.id)
      assert.deepStrictEqual(old.endReason, Option.some("timeout"))
      assert.strictEqual(yield* resolutions("expired_then_created"), 1)
    }).pipe(Effect.provide(InMemorySessionStore)))

  it.effect("a carried session idle past the timeout is not reused: it expires as for any message", () =>
    Effect.gen(function*() {
      const first = yield* resolveSession(user)
      yield* TestClock.adjust("30 minutes")
      assert.strictEqual((yield* resolveSession(user, Option.some(first.session.id))).outcome, "carried", "exactly at the timeout is not idle")
      yield* TestClock.adjust("30 minutes")
      yield* TestClock.adjust("1 millis")
      const next = yield* resolveSession(user, Option.some(first.session.id))
      assert.strictEqual(next.outcome, "expired_then_created")
      assert.notStrictEqual(next.session.id, first.session.id)
    }).pipe(Effect.provide(InMemorySessionStore)))
})
