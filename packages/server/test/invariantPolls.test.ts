import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { seedDemo } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { Effect, Layer } from "effect"
import { invariantPolls } from "../src/hammer/InvariantPolls.ts"

const karim = "+33612345678"

describe("the invariant polls see each violation they are named after", () => {
  layer(Layer.effectDiscard(seedDemo()).pipe(Layer.provideMerge(TestDatabase({ maxConnections: 2 }))))((it) => {
    it.effect("two leased inbox entries of one sender, then one message stored twice; the hammer's scope sees neither", () =>
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        const all = yield* invariantPolls({ _tag: "All", since: new Date(Date.now() - 60_000) })
        const hammer = yield* invariantPolls({ _tag: "Marked", marker: "parley-hammer none" })
        assert.deepStrictEqual(yield* all.all, [], "a healthy database")

        // Rows as a claim leaves them, whatever the claim query: leased until `lease_until`.
        const entry = (id: string, seq: number, leaseSeconds: number) => sql`
          INSERT INTO inbox (provider, provider_message_id, sender, sender_seq, payload, available_at, accepted_at, lease_token, lease_until)
          VALUES ('meta', ${id}, ${karim}, ${seq}, '{}'::jsonb, now(), now(), gen_random_uuid(), now() + make_interval(secs => ${leaseSeconds}))`
        yield* entry("wamid.a", 1, 60)
        yield* entry("wamid.b", 2, -1) // an expired lease is not in flight
        assert.deepStrictEqual(yield* all.messagesInFlight, [])
        yield* entry("wamid.c", 3, 60)
        const inFlight = yield* all.messagesInFlight
        assert.strictEqual(inFlight.length, 1)
        assert.strictEqual(inFlight[0]!.invariant, "two messages of one user in flight")
        assert.match(inFlight[0]!.rows[0]!, /^sender \+33•+78: 2 leased inbox entries: \d+, \d+$/)
        assert.notInclude(inFlight[0]!.rows[0]!, karim, "no full phone number")

        const [session] = yield* sql<{ id: string; user_id: string }>`
          INSERT INTO conversation_sessions (subcontractor_id) SELECT id FROM subcontractors WHERE phone = ${karim} RETURNING id, subcontractor_id AS user_id`
        const stored = sql`
          INSERT INTO messages (session_id, subcontractor_id, direction, content, provider_message_id)
          VALUES (${session!.id}::uuid, ${session!.user_id}::uuid, 'inbound', 'Bonjour', 'wamid.a')`
        yield* stored
        assert.deepStrictEqual(yield* all.processedTwice, [])
        yield* stored
        const twice = yield* all.processedTwice
        assert.deepStrictEqual(twice.map((v) => [v.invariant, v.rows[0]]), [["a message processed twice", `message wamid.a: stored 2 times, in session(s) ${session!.id}`]])

        assert.deepStrictEqual(yield* hammer.all, [], "the hammer's polls only read its own users")
      }))
  })
})
