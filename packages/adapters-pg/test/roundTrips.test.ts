import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { demoSubcontractors } from "@parley/core"
import { chatAs, RecordingMessengerLayer } from "@parley/core/testing"
import { PgAssistant, seedDemo } from "@parley/adapters-pg"
import { ScratchDatabaseInfo, TestDatabase } from "@parley/adapters-pg/testing"
import { Duration, Effect, Layer, Redacted } from "effect"
import { wireTap } from "./support/wireTap.ts"

/**
 * SQL round trips per processed message, counted on the wire by a protocol
 * tap between the pipeline and Postgres: accept, claim, identify, resolve the
 * session, load its context, commit the turn, claim and mark the reply, and
 * the empty claims an idle worker and sender make before they sleep.
 */
describe("round trips per message", () => {
  layer(Layer.effectDiscard(seedDemo()).pipe(Layer.provideMerge(TestDatabase({ maxConnections: 2 }))), { timeout: Duration.seconds(60) })((it) => {
    it.effect("a text message processed alone costs at most 10 round trips (16 before the turn was one statement)", () =>
      Effect.gen(function*() {
        const db = yield* ScratchDatabaseInfo
        const tap = yield* wireTap(db.url)
        const client = PgClient.layer({ url: Redacted.make(tap.url), maxConnections: 4 })
        const perMessage = yield* Effect.gen(function*() {
          const chat = chatAs(demoSubcontractors[0]!.phone)
          // Warm: statements prepared, the session created.
          yield* chat.say("Bonjour")
          yield* chat.say("Bonjour")
          tap.reset()
          const n = 10
          for (let i = 0; i < n; i++) {
            const replies = yield* chat.say("Bonjour")
            assert.strictEqual(replies[0]?._tag, "ButtonsReply")
          }
          return tap.counts().roundTrips / n
        }).pipe(Effect.provide(Layer.mergeAll(PgAssistant, RecordingMessengerLayer).pipe(Layer.provideMerge(client))), Effect.scoped)
        console.log(`round trips per message: ${perMessage}`)
        assert.isAtMost(perMessage, 10)
      }))
  })
})
