import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { acceptInbound, defaultRetryPolicy, defaultSenderOptions, OutboxSenderLayer, WorkersLayer } from "@parley/core"
import { inboundOf, RecordingMessenger, RecordingMessengerLayer } from "@parley/core/testing"
import { demoSubcontractors } from "@parley/worksite"
import { PgAssistant, seedDemo } from "@parley/worksite/pg"
import { ScratchDatabaseInfo, TestDatabase } from "@parley/adapters-pg/testing"
import { Duration, Effect, Layer, Redacted } from "effect"
import { wireTap } from "./support/wireTap.ts"

/**
 * SQL round trips per processed message, counted on the wire by a protocol
 * tap between the engine and Postgres, with the server's own loops running:
 * four workers, and the outbox sender provided to them as the server does.
 * Each message is accepted as a webhook would, and counted from its
 * acceptance until its reply is recorded sent and the loops are idle again,
 * so the idle worker's and sender's claims are in the count.
 *
 * The idle polls (the safety net behind wake-ups) are set long enough not to
 * fire during the count: they cost a claim per worker every few seconds
 * whether or not messages arrive, not per message.
 */
describe("round trips per message", () => {
  layer(Layer.effectDiscard(seedDemo()).pipe(Layer.provideMerge(TestDatabase({ maxConnections: 2 }))), { timeout: Duration.seconds(60), excludeTestServices: true })((it) => {
    it.effect("a text message processed alone, through the workers and the sender, costs at most 6 round trips (16 in the seed's design, 10 before the commit said what comes next)", () =>
      Effect.gen(function*() {
        const db = yield* ScratchDatabaseInfo
        const tap = yield* wireTap(db.url)
        const client = PgClient.layer({ url: Redacted.make(tap.url), maxConnections: 6 })
        const loops = WorkersLayer({ concurrency: 4, lease: Duration.seconds(15), idlePoll: Duration.minutes(5), retry: defaultRetryPolicy }).pipe(
          Layer.provide(OutboxSenderLayer({ ...defaultSenderOptions, idlePollMillis: 300_000 }))
        )
        const from = demoSubcontractors[0]!.phone
        const { perMessage, statements } = yield* Effect.gen(function*() {
          const messenger = yield* RecordingMessenger
          /** Accepts one message and waits for its reply to be sent and every statement it caused to be answered. */
          const say = Effect.fnUntraced(function*(text: string) {
            const before = (yield* messenger.sent).length
            yield* acceptInbound([inboundOf(from, { _tag: "Text", body: text })])
            while ((yield* messenger.sent).length === before) yield* Effect.sleep(Duration.millis(2))
            // markSent follows the send, and the loops go idle after it: wait until the wire is quiet.
            let seen = -1
            while (seen !== tap.counts().roundTrips || tap.busy()) {
              seen = tap.counts().roundTrips
              yield* Effect.sleep(Duration.millis(40))
            }
          })
          // Warm: statements prepared, the session created, the loops idle.
          yield* say("Bonjour")
          yield* say("Bonjour")
          tap.reset()
          const n = 10
          for (let i = 0; i < n; i++) yield* say("Bonjour")
          return { perMessage: tap.counts().roundTrips / n, statements: tap.sequence().slice(0, Math.ceil(tap.sequence().length / n)) }
        }).pipe(
          Effect.provide(loops.pipe(Layer.provideMerge(Layer.mergeAll(PgAssistant, RecordingMessengerLayer)), Layer.provideMerge(client))),
          Effect.scoped
        )
        console.log(`round trips per message: ${perMessage}\n${statements.map((s) => `  ${s.replace(/\s+/g, " ").trim().slice(0, 100)}`).join("\n")}`)
        assert.isAtMost(perMessage, 6)
      }))
  })
})
