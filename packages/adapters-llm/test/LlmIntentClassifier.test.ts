import { assert, describe, it } from "@effect/vitest"
import { LlmIntentClassifier, llmBreakerOpened, llmClassifications, llmTokens, promptLimits, type LlmClassifierSettings, type LlmOutcome } from "@parley/adapters-llm"
import { answerJson, scriptedModel, startFakeChatCompletions, type FakeAnswer, type FakeChatCompletions, type RecordedChatRequest } from "@parley/adapters-llm/testing"
import {
  demoSubcontractors,
  InMemoryMessagingLayer,
  InMemorySessionStore,
  InMemoryWorksite,
  IntentClassifier,
  StoredMessage,
  type SessionId,
  type UserId
} from "@parley/core"
import { buttonsOf, chatAs, incidentSummaries, RecordingMessengerLayer, rowsOf } from "@parley/core/testing"
import { Effect, Layer, Metric, Redacted } from "effect"

const karim = demoSubcontractors[0]!
const lucie = demoSubcontractors[2]!
const apiKey = "sk-test-0123456789abcdefghij"

const settingsFor = (fake: FakeChatCompletions, overrides: Partial<LlmClassifierSettings> = {}): LlmClassifierSettings => ({
  baseUrl: fake.baseUrl,
  apiKey: Redacted.make(apiKey),
  model: "test-model",
  timeout: "10 seconds",
  ...overrides
})

/** The in-memory assistant with the LLM classifier in place of the rules, over a fake endpoint started for the test. */
const withAssistant = <A, E>(
  respond: (request: RecordedChatRequest) => FakeAnswer,
  body: (fake: FakeChatCompletions) => Effect.Effect<A, E, any>,
  overrides: Partial<LlmClassifierSettings> = {}
) =>
  Effect.scoped(Effect.gen(function*() {
    const fake = yield* Effect.acquireRelease(Effect.promise(() => startFakeChatCompletions(respond)), (f) => Effect.promise(f.close))
    const worksite = InMemoryWorksite()
    const assistant = Layer.mergeAll(
      InMemoryMessagingLayer,
      worksite,
      RecordingMessengerLayer,
      LlmIntentClassifier.layer(settingsFor(fake, overrides)).pipe(Layer.provide(worksite))
    ).pipe(Layer.provideMerge(InMemorySessionStore))
    return yield* (body(fake) as Effect.Effect<A, E, Layer.Success<typeof assistant>>).pipe(Effect.provide(assistant))
  }))

const outcomes = ["llm", "fallback_timeout", "fallback_invalid", "fallback_error"] as const
const outcomeCounts = Effect.gen(function*() {
  const counts: Partial<Record<LlmOutcome, number>> = {}
  for (const outcome of outcomes) counts[outcome] = (yield* Metric.value(llmClassifications.pipe(Metric.withAttributes({ outcome })))).count
  return counts as Record<LlmOutcome, number>
})
/** What one step added to the outcome counters (they are process-wide). */
const outcomeOf = <A, E, R>(step: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* outcomeCounts
    const result = yield* step
    const after = yield* outcomeCounts
    const added = outcomes.filter((o) => after[o] !== before[o])
    return [result, added] as const
  })

const champignyTasks = ["Pose des cloisons R+1", "Réseau électrique lot B", "Ragréage hall d'entrée"]

describe("LLM intent classifier against a fake OpenAI-compatible endpoint (real HTTP on loopback)", () => {
  it.live("sends the model, the masked conversation with the assistant's options, the sites and the closed intent schema; the site slot reaches the tools", () =>
    withAssistant(scriptedModel({
      menu: { intent: "greeting" },
      "c'est quoi les tâches à Champigny ?": { intent: "view_sites", site: "Champigny" }
    }), (fake) =>
      Effect.gen(function*() {
        const chat = chatAs(karim.phone)
        const [menu] = yield* chat.say("menu")
        assert.deepStrictEqual(buttonsOf(menu), ["Voir mes chantiers", "Signaler un problème", "Parler à quelqu'un"])
        const [[tasks], added] = yield* outcomeOf(chat.say("c'est quoi les tâches à Champigny ?"))
        assert.deepStrictEqual(added, ["llm"])
        assert.match(tasks!.body, /Champigny/)
        assert.deepStrictEqual(rowsOf(tasks).map((r) => r.title), champignyTasks, "Champigny's tasks, from one sentence")

        const requests = fake.requests()
        assert.strictEqual(requests.length, 2)
        const request = requests[1]!
        assert.strictEqual(request.path, "/v1/chat/completions")
        assert.strictEqual(request.headers.authorization, `Bearer ${apiKey}`)
        assert.strictEqual(request.body.model, "test-model")
        const format = request.body.response_format!
        assert.strictEqual(format.type, "json_schema")
        assert.strictEqual(format.json_schema!.strict, true)
        const schema = format.json_schema!.schema as { properties: { intent: { enum: Array<string> } }; required: Array<string>; additionalProperties: boolean }
        assert.deepStrictEqual(schema.properties.intent.enum, ["greeting", "view_sites", "report_problem", "talk_to_someone", "more", "back", "unknown"])
        assert.deepStrictEqual(schema.required, ["intent", "site", "task", "problem"])
        assert.strictEqual(schema.additionalProperties, false)
        const messages = request.body.messages
        assert.strictEqual(messages[0]!.role, "system")
        assert.include(messages[0]!.content, "- report_problem: ")
        assert.include(messages[0]!.content, "The user's sites: 1. Champigny; 2. Ivry-sur-Seine; 3. Montreuil.")
        assert.include(messages[0]!.content, "language setting is fr")
        // The history, oldest first: the user's "menu", then the menu as shown, numbered options included.
        assert.deepStrictEqual(messages.slice(1).map((m) => m.role), ["user", "assistant", "user"])
        assert.strictEqual(messages[1]!.content, "menu")
        assert.strictEqual(messages[2]!.content, "Bonjour [name] 👋 Que voulez-vous faire ?\n1. Voir mes chantiers\n2. Signaler un problème\n3. Parler à quelqu'un")
        assert.strictEqual(messages[3]!.content, "Message to classify:\nc'est quoi les tâches à Champigny ?")
      })))

  it.live("a problem with its site in one sentence is recorded there, in the user's own words", () =>
    withAssistant(scriptedModel({
      "le carrelage du 2e est fissuré à Montreuil": { intent: "report_problem", site: "montreuil", problem: "carrelage fissuré au 2e" },
      "il y a un souci sur le chantier 2": { intent: "report_problem", site: "2" }
    }), () =>
      Effect.gen(function*() {
        const chat = chatAs(karim.phone)
        const [recorded] = yield* chat.say("le carrelage du 2e est fissuré à Montreuil")
        assert.strictEqual(recorded!.body, "✅ Problème enregistré sur Montreuil. Vous pouvez ajouter une photo.")
        assert.deepStrictEqual(yield* incidentSummaries(karim), [{ description: "le carrelage du 2e est fissuré à Montreuil", photos: [] }])
        const [ask] = yield* chat.say("il y a un souci sur le chantier 2")
        assert.strictEqual(ask!.body, "Décrivez le problème sur Ivry-sur-Seine (vous pouvez joindre une photo).", "a site by its number")
      })))

  it.live("a task named after its list was shown opens that task", () =>
    withAssistant(scriptedModel({
      "tâches champigny": { intent: "view_sites", site: "Champigny" },
      "et les cloisons, ça en est où ?": { intent: "view_sites", task: "pose des cloisons r+1" }
    }), () =>
      Effect.gen(function*() {
        const chat = chatAs(karim.phone)
        yield* chat.say("tâches champigny")
        const [detail] = yield* chat.say("et les cloisons, ça en est où ?")
        assert.match(detail!.body, /Pose des cloisons R\+1/)
      })))

  it.live("no phone number, name, e-mail or key leaves the process", () =>
    withAssistant(scriptedModel({}), (fake) =>
      Effect.gen(function*() {
        const chat = chatAs(karim.phone)
        yield* chat.say("Bonjour")
        yield* chat.say("C'est Karim, rappelez-moi au 06 12 34 56 78 ou +33 6 12 34 56 78, karim.b@example.fr, ma clé sk-live-ABCDEF1234567890abcdef")
        const raw = fake.requests().map((r) => r.raw).join("\n")
        for (const leaked of ["Karim", "karim", "06 12 34 56 78", "+33 6 12", "612345678", "example.fr", "sk-live", "ABCDEF1234567890", apiKey]) {
          assert.notInclude(raw, leaked)
        }
        const last = fake.requests().at(-1)!.body.messages.at(-1)!.content
        assert.strictEqual(last, "Message to classify:\nC'est [name], rappelez-moi au [phone] ou [phone], [email], ma clé [secret]")
      })))

  const failures: ReadonlyArray<readonly [string, ReadonlyArray<FakeAnswer>, LlmOutcome, number]> = [
    ["malformed JSON", [{ content: "{\"intent\": \"view_sites\"" }], "fallback_invalid", 1],
    ["an intent outside the set", [{ content: answerJson({ intent: "delete_everything" }) }], "fallback_invalid", 1],
    ["an empty answer", [{ content: "" }], "fallback_invalid", 1],
    ["a null content", [{ content: null }], "fallback_invalid", 1],
    ["a site that is not the user's", [{ content: answerJson({ intent: "view_sites", site: "Lyon Part-Dieu" }) }], "fallback_invalid", 1],
    ["a task that is not the user's", [{ content: answerJson({ intent: "view_sites", task: "Démolition" }) }], "fallback_invalid", 1],
    ["a body that is no chat completion", [{ status: 200, raw: "<html>oops</html>" }], "fallback_invalid", 1],
    ["HTTP 500 twice (one retry)", [{ status: 500, raw: "{}" }, { status: 500, raw: "{}" }], "fallback_error", 2],
    ["HTTP 401 (no retry)", [{ status: 401, raw: "{\"error\":{\"message\":\"bad key\"}}" }], "fallback_error", 1],
    ["no answer within the timeout", [{ content: answerJson({ intent: "talk_to_someone" }), delayMillis: 10_000 }], "fallback_timeout", 1]
  ]
  for (const [what, answers, outcome, requests] of failures) {
    it.live(`${what}: ${outcome}, and the rules answer`, () =>
      withAssistant(() => ({ content: answerJson({ intent: "talk_to_someone" }) }), (fake) =>
        Effect.gen(function*() {
          fake.queue(...answers)
          const [replies, added] = yield* outcomeOf(chatAs(karim.phone).say("je veux voir mes chantiers"))
          assert.deepStrictEqual(added, [outcome])
          assert.deepStrictEqual(rowsOf(replies[0]).map((r) => r.title), ["Champigny", "Ivry-sur-Seine", "Montreuil"], "the rules' view_sites")
          assert.strictEqual(fake.requests().length, requests)
        }), { timeout: outcome === "fallback_timeout" ? "300 millis" : "10 seconds" }))
  }

  it.live("Lucie naming Champigny, which is not her site, gets the rules' answer, not Champigny's tasks", () =>
    withAssistant(scriptedModel({ "les tâches de Champigny": { intent: "view_sites", site: "Champigny" } }), () =>
      Effect.gen(function*() {
        const [[reply], added] = yield* outcomeOf(chatAs(lucie.phone).say("les tâches de Champigny"))
        assert.deepStrictEqual(added, ["fallback_invalid"])
        assert.notMatch(reply!.body, /Champigny/)
        assert.deepStrictEqual(rowsOf(reply), [], "the rules find no keyword: help and the menu")
      })))

  it.live("a 500 then an answer: the one retry succeeds", () =>
    withAssistant(scriptedModel({ "parler à un humain svp": { intent: "talk_to_someone" } }), (fake) =>
      Effect.gen(function*() {
        fake.queue({ status: 503, raw: "{}" })
        const [[reply], added] = yield* outcomeOf(chatAs(karim.phone).say("parler à un humain svp"))
        assert.deepStrictEqual(added, ["llm"])
        assert.strictEqual(fake.requests().length, 2)
        assert.match(reply!.body, /conseiller|équipe|quelqu/i)
      })))

  it.live("token counts are recorded as the endpoint reports them", () =>
    withAssistant(() => ({ content: answerJson({ intent: "greeting" }), usage: { prompt_tokens: 321, completion_tokens: 12 } }), () =>
      Effect.gen(function*() {
        const tokens = (kind: string) => Metric.value(llmTokens.pipe(Metric.withAttributes({ kind }))).pipe(Effect.map((s) => s.count))
        const [prompt, completion] = [yield* tokens("prompt"), yield* tokens("completion")]
        yield* chatAs(karim.phone).say("yo")
        assert.strictEqual((yield* tokens("prompt")) - prompt, 321)
        assert.strictEqual((yield* tokens("completion")) - completion, 12)
      })))

  it.live("the circuit breaker: after 3 failures the endpoint is left alone; after the cool-down one trial closes it", () =>
    withAssistant(() => ({ status: 500, raw: "{}" }), (fake) =>
      Effect.gen(function*() {
        const classifier = yield* IntentClassifier
        const opened = (yield* Metric.value(llmBreakerOpened)).count
        for (let i = 0; i < 3; i++) yield* classifier.classify("mes chantiers", [], karim)
        assert.strictEqual(fake.requests().length, 6, "3 failures, each retried once")
        assert.strictEqual((yield* Metric.value(llmBreakerOpened)).count - opened, 1)
        const [result, added] = yield* outcomeOf(classifier.classify("mes chantiers", [], karim))
        assert.deepStrictEqual(added, ["fallback_error"])
        assert.strictEqual(result.intent, "view_sites", "the rules answered")
        assert.strictEqual(fake.requests().length, 6, "open: no request")

        yield* Effect.sleep("700 millis")
        fake.queue({ content: answerJson({ intent: "greeting" }) })
        assert.strictEqual((yield* classifier.classify("mes chantiers", [], karim)).intent, "greeting", "the trial call went through")
        assert.strictEqual(fake.requests().length, 7)
        fake.queue({ content: answerJson({ intent: "talk_to_someone" }) })
        assert.strictEqual((yield* classifier.classify("mes chantiers", [], karim)).intent, "talk_to_someone", "closed again")
      }), { breaker: { failures: 3, cooldown: "500 millis" } }))

  it.live("at most `concurrency` calls in flight; the others wait their turn", () =>
    withAssistant(() => ({ content: answerJson({ intent: "greeting" }), delayMillis: 300 }), (fake) =>
      Effect.gen(function*() {
        const classifier = yield* IntentClassifier
        const results = yield* Effect.forEach(Array.from({ length: 8 }, (_, i) => `bonjour ${i}`), (text) => classifier.classify(text, [], karim), {
          concurrency: "unbounded"
        })
        assert.deepStrictEqual(new Set(results.map((r) => r.intent)), new Set(["greeting"]))
        assert.strictEqual(fake.requests().length, 8)
        assert.strictEqual(fake.maxInFlight(), 2)
      }), { concurrency: 2, timeout: "20 seconds" }))

  it.live("the prompt stays bounded whatever the history and the message", () =>
    withAssistant(() => ({ content: answerJson({ intent: "unknown" }) }), (fake) =>
      Effect.gen(function*() {
        const classifier = yield* IntentClassifier
        const history = Array.from({ length: 20 }, (_, i) =>
          new StoredMessage({
            id: `m${i}`,
            sessionId: "s" as SessionId,
            userId: karim.id as UserId,
            direction: i % 2 === 0 ? "inbound" : "outbound",
            content: "blabla ".repeat(2_000),
            metadata: {},
            createdAt: 1_000 - i
          }))
        const result = yield* classifier.classify("x".repeat(100_000), history, karim)
        assert.strictEqual(result.contextSize, 20)
        const raw = fake.requests()[0]!.raw
        const budget = promptLimits.text + promptLimits.history + 3_000 // the instructions, the schema, the JSON around
        assert.isBelow(raw.length, budget)
        assert.isAbove(fake.requests()[0]!.body.messages.length, 2, "the newest history that fits is kept")
      })))
})
