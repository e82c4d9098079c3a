import { PgClient } from "@effect/sql-pg"
import { assert, describe, it, layer } from "@effect/vitest"
import { contextMessages, Inbox, type MessageContent, PhoneNumber, type Reply, sessionResolutions, SessionStore } from "@parley/core"
import {
  chatAs,
  checkConversations,
  echoScript,
  failureReport,
  inboxContract,
  RecordingMessengerLayer,
  SlowEchoAssistantLayer
} from "@parley/core/testing"
import { demoSubcontractors, directActions, type Subcontractor, WorksiteAssistant } from "@parley/worksite"
import { PgAssistant, PgWorksite, seedDemo } from "@parley/worksite/pg"
import { SlowRuleClassifier, worksiteScript } from "@parley/worksite/testing"
import { PgEngine, PgMessaging, registerUser, sessionHealth } from "@parley/adapters-pg"
import { TestDatabase } from "@parley/adapters-pg/testing"
import { Effect, Layer, Metric } from "effect"

inboxContract("postgres", PgMessaging.pipe(Layer.provide(TestDatabase())) as Layer.Layer<Inbox>)

const seeded = Layer.effectDiscard(seedDemo()).pipe(Layer.provideMerge(TestDatabase({ maxConnections: 12 })))
const assistant = Layer.mergeAll(PgAssistant, RecordingMessengerLayer).pipe(Layer.provideMerge(seeded))

const karim = demoSubcontractors[0]!
/** One message through inbox, workers and outbox; a tap names the reply it answers (`on`), as WhatsApp's `context.id` does. */
const say = (content: MessageContent, on?: Reply) => chatAs(karim.phone).send(content, on)
const rows = (reply: Reply | undefined) => (reply?._tag === "ListReplyMessage" ? reply.sections.flatMap((s) => s.rows) : [])
const metric = (m: Metric.Metric<number, Metric.CounterState<number>>, attributes: Record<string, string>) =>
  Effect.map(Metric.value(Metric.withAttributes(m, attributes)), (s) => s.count)

describe("the seed's manual test on Postgres", () => {
  layer(assistant)((it) => {
    it.effect("Bonjour → View Sites → Champigny → its tasks → \"2\": all messages in one active session", () =>
      Effect.gen(function*() {
        const before = {
          carried: yield* metric(sessionResolutions, { outcome: "carried" }),
          hits: yield* metric(directActions, { tool: "list_projects_tool", result: "hit" }),
          context: (yield* Metric.value(contextMessages)).count
        }
        const menu = yield* say({ _tag: "Text", body: "Bonjour" })
        assert.strictEqual(menu[0]?._tag, "ButtonsReply")
        const list = yield* say({ _tag: "ButtonReply", id: "menu_view_sites", title: "Voir mes chantiers" }, menu[0])
        const champigny = rows(list[0]).find((r) => r.title === "Champigny")!
        assert.isDefined(champigny)
        const tasks = yield* say({ _tag: "ListReply", id: champigny.id, title: champigny.title }, list[0])
        assert.deepStrictEqual(rows(tasks[0]).map((r) => r.title), ["Pose des cloisons R+1", "Réseau électrique lot B", "Ragréage hall d'entrée"])
        const detail = yield* say({ _tag: "Text", body: "2" })
        assert.match(detail[0]?.body ?? "", /Réseau électrique lot B/)

        const sql = yield* PgClient.PgClient
        const sessions = yield* sql<{ session_id: string; status: string; n: number }>`
          SELECT m.session_id::text AS session_id, cs.status, count(*)::int AS n
          FROM messages m JOIN conversation_sessions cs ON cs.id = m.session_id
          WHERE m.subcontractor_id = ${karim.id}::uuid GROUP BY 1, 2`
        assert.deepStrictEqual(sessions.map((s) => [s.status, s.n]), [["active", 8]], "8 messages, ONE active session")
        const stored = yield* sql<{ metadata: { toolOutputs?: Array<{ tool: string }> } }>`
          SELECT metadata FROM messages WHERE direction = 'outbound' AND metadata ? 'toolOutputs' ORDER BY seq`
        assert.deepStrictEqual(stored.map((m) => m.metadata.toolOutputs?.[0]?.tool), ["list_projects_tool", "list_tasks_tool", "task_detail_tool"])
        assert.deepStrictEqual(yield* Effect.flatMap(sessionHealth, (h) => h.duplicateActiveSessions), [])
        assert.strictEqual((yield* (yield* SessionStore).listByUser(karim.id)).length, 1)

        // The metrics the seed lacked: both taps carried their list's session, the tap on a project hit, contexts were loaded.
        assert.strictEqual((yield* metric(sessionResolutions, { outcome: "carried" })) - before.carried, 2)
        assert.strictEqual((yield* metric(directActions, { tool: "list_projects_tool", result: "hit" })) - before.hits, 1)
        const context = yield* Metric.value(contextMessages)
        assert.strictEqual(context.count - before.context, 4)
        assert.isAbove(context.max, 0)
      }))
  })
})

/** Each run gets fresh users (with phones of their own) assigned to the demo projects, so runs share one database. */
const freshUsers = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  return yield* Effect.forEach(demoSubcontractors, (template) =>
    Effect.gen(function*() {
      const id = crypto.randomUUID()
      const phone = PhoneNumber.make(`+336${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`)
      yield* sql`INSERT INTO subcontractors (id, phone, display_name, locale) VALUES (${id}::uuid, ${phone}, ${template.displayName}, ${template.locale})`
      yield* sql`INSERT INTO project_assignments (subcontractor_id, project_id) SELECT ${id}::uuid, project_id FROM project_assignments WHERE subcontractor_id = ${template.id}::uuid`
      return { ...template, id, phone } as unknown as Subcontractor
    }))
}).pipe(Effect.orDie)

describe("random conversations on Postgres", () => {
  it.live("keep every invariant (25 runs; 150 in memory)", () =>
    Effect.gen(function*() {
      const database = yield* Layer.build(seeded)
      const perRun = () =>
        Layer.mergeAll(
          WorksiteAssistant.layer.pipe(Layer.provideMerge(Layer.mergeAll(PgWorksite, SlowRuleClassifier, PgEngine))),
          RecordingMessengerLayer
        ).pipe(Layer.provideMerge(Layer.succeedContext(database)))
      const details = yield* checkConversations({ numRuns: 25, maxSteps: 20, layer: perRun, users: freshUsers, script: worksiteScript, settleMillis: 15 })
      assert.isFalse(details.failed, failureReport(details))
    }).pipe(Effect.scoped), 240_000)

  it.live("keep every invariant with another assistant: the engine alone, with the echo assistant (15 runs)", () =>
    Effect.gen(function*() {
      const database = yield* Layer.build(seeded)
      const perRun = () =>
        Layer.mergeAll(PgEngine, SlowEchoAssistantLayer, RecordingMessengerLayer).pipe(Layer.provideMerge(Layer.succeedContext(database)))
      const users = Effect.forEach([1, 2, 3], (n) =>
        registerUser({ phone: PhoneNumber.make(`+337${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`), displayName: `Echo ${n}` })).pipe(Effect.orDie)
      const details = yield* checkConversations({ numRuns: 15, maxSteps: 20, layer: perRun, users, script: echoScript, settleMillis: 15 })
      assert.isFalse(details.failed, failureReport(details))
    }).pipe(Effect.scoped), 240_000)
})
