/**
 * `npm run eval:intents`: the rule classifier's accuracy and confusion on the
 * labelled utterances, and the LLM classifier's when `LLM_BASE_URL`,
 * `LLM_API_KEY` and `LLM_MODEL` are set (same variables as the server).
 */
import { LlmIntentClassifier, llmClassifications } from "@parley/adapters-llm"
import { demoProjects, demoSubcontractors, InMemoryWorksite, IntentClassifier } from "@parley/core"
import { Config, Duration, Effect, Layer, Metric, Option } from "effect"
import { formatReport, loadUtterances, runClassifier, runRules, score } from "./evaluate.ts"

const karim = demoSubcontractors[0]!

const llmConfig = Config.all({
  baseUrl: Config.String("LLM_BASE_URL"),
  apiKey: Config.Redacted("LLM_API_KEY"),
  model: Config.String("LLM_MODEL"),
  timeout: Config.Duration("LLM_TIMEOUT").pipe(Config.withDefault(Duration.seconds(20)))
}).pipe(Config.option)

const main = Effect.gen(function*() {
  const utterances = loadUtterances()
  const langs = utterances.reduce((acc, u) => ({ ...acc, [u.lang]: (acc[u.lang] ?? 0) + 1 }), {} as Record<string, number>)
  yield* Effect.log(`${utterances.length} utterances (${Object.entries(langs).map(([l, n]) => `${n} ${l}`).join(", ")})`)
  console.log(formatReport("rule classifier", score(yield* runRules(utterances))))

  const llm = yield* llmConfig
  if (Option.isNone(llm)) {
    console.log("\nLLM classifier: not evaluated (set LLM_BASE_URL, LLM_API_KEY and LLM_MODEL)")
    return
  }
  const classifier = yield* IntentClassifier.pipe(Effect.provide(
    // A breaker that stays closed: every utterance is measured, not skipped.
    LlmIntentClassifier.layer({ ...llm.value, breaker: { failures: Number.MAX_SAFE_INTEGER, cooldown: 0 } }).pipe(Layer.provide(InMemoryWorksite()))
  ))
  const scored = yield* runClassifier(utterances, (text) => classifier.classify(text, [], karim), demoProjects)
  console.log("\n" + formatReport(`LLM classifier (${llm.value.model})`, score(scored), karim))
  const outcomes: Array<string> = []
  for (const outcome of ["llm", "fallback_timeout", "fallback_invalid", "fallback_error"]) {
    outcomes.push(`${outcome} ${(yield* Metric.value(llmClassifications.pipe(Metric.withAttributes({ outcome })))).count}`)
  }
  console.log(`outcomes: ${outcomes.join(", ")} (fallbacks are the rules' answers)`)
})

Effect.runPromise(main).catch((e) => {
  console.error(e)
  process.exit(1)
})
