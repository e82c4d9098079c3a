import { PgClient } from "@effect/sql-pg"
import { seedDemo } from "@parley/adapters-pg"
import { createScratchDatabase } from "@parley/adapters-pg/testing"
import { scriptedModel, startFakeChatCompletions, type FakeChatCompletions } from "@parley/adapters-llm/testing"
import { startFakeGraphApi, type FakeGraphApi } from "@parley/adapters-whatsapp/testing"
import { demoSubcontractors, type PhoneNumber } from "@parley/core"
import { Effect, Redacted } from "effect"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { metaClient, metaEnv, queryOn, text } from "./support/MetaClient.ts"
import { startServer, type RunningServer } from "./support/ServerProcess.ts"

const appSecret = "llm-app-secret"
const apiKey = "sk-llm-e2e-0123456789abcdef"
const karim = demoSubcontractors[0]!

let graph: FakeGraphApi
let model: FakeChatCompletions
let server: RunningServer
let db: Awaited<ReturnType<typeof createScratchDatabase>>

const query = queryOn(() => db.url)
const { deliver, sentTo, waitForReplies } = metaClient(() => server.url, () => graph, appSecret, "llm")
const say = (from: PhoneNumber, body: string) => deliver(from, text(body))

type Interactive = { body: { text: string }; action: { buttons?: Array<{ reply: { title: string } }>; sections?: Array<{ rows: Array<{ title: string }> }> } }
const interactive = (payload: Record<string, unknown>) => payload["interactive"] as Interactive

beforeAll(async () => {
  model = await startFakeChatCompletions(scriptedModel({
    Bonjour: { intent: "greeting" },
    "tu peux me montrer mes chantiers ?": { intent: "view_sites" },
    "c'est quoi les tâches à Champigny ?": { intent: "view_sites", site: "Champigny" }
  }))
  graph = await startFakeGraphApi()
  db = await createScratchDatabase()
  server = await startServer({
    DATABASE_URL: db.url,
    ...metaEnv(graph, appSecret),
    INTENT_CLASSIFIER: "llm",
    LLM_BASE_URL: model.baseUrl,
    LLM_API_KEY: apiKey,
    LLM_MODEL: "fake-model",
    LLM_TIMEOUT: "20 seconds",
    WORKER_COUNT: "2"
  })
  await Effect.runPromise(seedDemo().pipe(Effect.provide(PgClient.layer({ url: Redacted.make(db.url), maxConnections: 1 }))))
}, 90_000)

afterAll(async () => {
  await server?.stop()
  await graph?.close()
  await model?.close()
  await db?.drop()
}, 60_000)

describe("the server with INTENT_CLASSIFIER=llm, against a fake OpenAI-compatible endpoint", () => {
  it("the seed's manual test by typed sentences: Bonjour → my sites → Champigny's tasks, all in one active session", async () => {
    assert.strictEqual((await say(karim.phone, "Bonjour")).status, 200)
    const [menu] = await waitForReplies(karim.phone, 1)
    assert.deepStrictEqual(interactive(menu!.payload).action.buttons!.map((b) => b.reply.title), ["Voir mes chantiers", "Signaler un problème", "Parler à quelqu'un"])

    await say(karim.phone, "tu peux me montrer mes chantiers ?")
    const list = (await waitForReplies(karim.phone, 2))[1]!
    assert.deepStrictEqual(interactive(list.payload).action.sections!.flatMap((s) => s.rows.map((r) => r.title)), ["Champigny", "Ivry-sur-Seine", "Montreuil"])

    await say(karim.phone, "c'est quoi les tâches à Champigny ?")
    const tasks = (await waitForReplies(karim.phone, 3))[2]!
    assert.match(interactive(tasks.payload).body.text, /Champigny/)
    assert.deepStrictEqual(interactive(tasks.payload).action.sections![0]!.rows.map((r) => r.title), ["Pose des cloisons R+1", "Réseau électrique lot B", "Ragréage hall d'entrée"])

    const sessions = await query<{ status: string; n: number }>(
      `SELECT s.status, count(*)::int AS n FROM messages m JOIN conversation_sessions s ON s.id = m.session_id
       WHERE m.subcontractor_id = $1::uuid GROUP BY s.id, s.status`, [karim.id])
    assert.deepStrictEqual(sessions.map((s) => [s.status, s.n]), [["active", 6]], "all 6 messages in ONE active session")

    // Each sentence went to the model with the conversation so far: the last one saw the list of sites it answers.
    const requests = model.requests()
    assert.strictEqual(requests.length, 3)
    assert.deepStrictEqual(requests.map((r) => r.body.messages.length), [2, 4, 6], "system + history + the message")
    const last = requests[2]!.body.messages
    assert.match(last[4]!.content, /^Vos chantiers[^]*\n1\. Champigny\n2\. Ivry-sur-Seine\n3\. Montreuil$/)
    assert.strictEqual(last[5]!.content, "Message to classify:\nc'est quoi les tâches à Champigny ?")
    assert.strictEqual(requests[2]!.headers.authorization, `Bearer ${apiKey}`)
    for (const request of requests) {
      assert.notInclude(request.raw, "Karim")
      assert.notInclude(request.raw, karim.phone.slice(3))
    }

    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    assert.match(metrics, /^parley_llm_classifications_total\{outcome="llm"\} 3$/m)
    assert.match(metrics, /^parley_llm_tokens_total\{kind="prompt"\} [1-9]/m)
    assert.match(metrics, /^parley_llm_classify_seconds_bucket/m)
    assert.notInclude(server.output(), apiKey, "the key is never logged")
    assert.include(server.output(), "server.classifier")
  })

  it("the model down: the rules answer, and the outcome says so", async () => {
    model.queue({ status: 502, raw: "{}" }, { status: 502, raw: "{}" })
    const before = sentTo(karim.phone).length
    await say(karim.phone, "je veux parler à quelqu'un")
    const [handedOff] = (await waitForReplies(karim.phone, before + 1)).slice(before)
    assert.notMatch(JSON.stringify(handedOff!.payload), /Je n'ai pas compris/, "the rules understood 'parler'")
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    assert.match(metrics, /^parley_llm_classifications_total\{outcome="fallback_error"\} 1$/m)
  })
})

describe("INTENT_CLASSIFIER configuration", () => {
  const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url))
  const start = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LLM_") && k !== "INTENT_CLASSIFIER"))
      const child = execFile(process.execPath, [cli, "start"], { env: { ...clean, PORT: "1", ...env } }, (_error, _stdout, stderr) =>
        resolve({ code: child.exitCode, stderr }))
    })

  it("llm without its endpoint stops the server at once, naming the variable", async () => {
    const result = await start({ INTENT_CLASSIFIER: "llm" })
    assert.strictEqual(result.code, 1)
    assert.match(result.stderr, /^parley: invalid LLM_BASE_URL: /m)
  })

  it("half the LLM variables is an error even with the rules, never silently ignored; the key is not printed", async () => {
    const result = await start({ LLM_BASE_URL: "http://127.0.0.1:9/v1", LLM_API_KEY: "sk-secret-never-printed" })
    assert.strictEqual(result.code, 1)
    assert.match(result.stderr, /^parley: invalid LLM_MODEL: /m)
    assert.notInclude(result.stderr, "sk-secret-never-printed")
  })

  it("an unknown classifier is refused", async () => {
    const result = await start({ INTENT_CLASSIFIER: "gpt" })
    assert.strictEqual(result.code, 1)
    assert.match(result.stderr, /INTENT_CLASSIFIER/)
  })
})
