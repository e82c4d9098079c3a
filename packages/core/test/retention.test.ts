import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { defaultPrunerOptions, pruneOnce, Retention, retentionConfig, runPruner, StoreUnavailable } from "@parley/core"

/** A store of `rows` prunable rows per table, recording every call; `failures` calls fail first (an outage). */
const fakeRetention = (rows: { inbox: number; outbox: number }, failures = 0) => {
  const calls: Array<{ table: string; before: number; limit: number }> = []
  let failuresLeft = failures
  const prune = (table: "inbox" | "outbox") => (before: number, limit: number) =>
    Effect.suspend(() => {
      calls.push({ table, before, limit })
      if (failuresLeft > 0) {
        failuresLeft--
        return Effect.fail(new StoreUnavailable({ operation: `retention.${table}`, message: "ConnectionError: PgConnection: Connection closed" }))
      }
      const deleted = Math.min(limit, rows[table])
      rows[table] -= deleted
      return Effect.succeed(deleted)
    })
  return { calls, layer: Layer.succeed(Retention, Retention.of({ pruneInbox: prune("inbox"), pruneOutbox: prune("outbox") })) }
}

const options = { ...defaultPrunerOptions(Duration.days(30)), batch: 100, maxBatches: 3, pause: Duration.millis(10) }

describe("retention: a bounded pruning job", () => {
  it.effect("deletes in batches until one comes back short, everything older than the retention", () =>
    Effect.gen(function*() {
      const fake = fakeRetention({ inbox: 250, outbox: 40 })
      yield* TestClock.setTime(Duration.toMillis(Duration.days(100)))
      const fiber = yield* Effect.forkChild(pruneOnce(options).pipe(Effect.provide(fake.layer)))
      yield* TestClock.adjust(Duration.seconds(1))
      assert.deepStrictEqual(yield* Fiber.join(fiber), { inbox: 250, outbox: 40 })
      assert.deepStrictEqual(fake.calls.map((c) => c.table), ["inbox", "inbox", "inbox", "outbox"])
      assert.deepStrictEqual([...new Set(fake.calls.map((c) => c.before))], [Duration.toMillis(Duration.days(70))], "now minus the retention")
      assert.deepStrictEqual([...new Set(fake.calls.map((c) => c.limit))], [100])
    }))

  it.effect("a round is bounded: at most maxBatches per table, the rest waits for the next round", () =>
    Effect.gen(function*() {
      const rows = { inbox: 1_000, outbox: 0 }
      const fake = fakeRetention(rows)
      const fiber = yield* Effect.forkChild(pruneOnce(options).pipe(Effect.provide(fake.layer)))
      yield* TestClock.adjust(Duration.seconds(1))
      assert.deepStrictEqual(yield* Fiber.join(fiber), { inbox: 300, outbox: 0 })
      assert.strictEqual(rows.inbox, 700)
    }))

  it.effect("the job carries on by itself after the database failed", () =>
    Effect.gen(function*() {
      const rows = { inbox: 50, outbox: 5 }
      const fake = fakeRetention(rows, 2)
      const fiber = yield* Effect.forkChild(runPruner(options).pipe(Effect.provide(fake.layer)))
      yield* TestClock.adjust(Duration.seconds(5))
      assert.deepStrictEqual(rows, { inbox: 0, outbox: 0 }, "pruned once the database answered again")
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("RETENTION defaults to 30 days and is refused at or under the providers' 7-day redelivery window", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) => retentionConfig.parse(ConfigProvider.fromEnv({ env }))
      assert.deepStrictEqual(yield* read({}), Duration.days(30))
      assert.deepStrictEqual(yield* read({ RETENTION: "14 days" }), Duration.days(14))
      const refused = yield* Effect.flip(read({ RETENTION: "7 days" }))
      assert.match(refused.message, /longer than the providers' redelivery window/)
    }))
})
