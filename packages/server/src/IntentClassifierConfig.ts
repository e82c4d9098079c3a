import { LlmIntentClassifier, type LlmClassifierSettings } from "@parley/adapters-llm"
import { IntentClassifier, RuleIntentClassifier, type Worksite } from "@parley/core"
import { Config, Duration, Effect, Layer, Option } from "effect"
import { allOrNone } from "./allOrNone.ts"

const llmVariables = ["LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL"]

const llmSettings: Config.Config<LlmClassifierSettings> = Config.all({
  baseUrl: Config.String("LLM_BASE_URL"),
  apiKey: Config.Redacted("LLM_API_KEY"),
  model: Config.String("LLM_MODEL"),
  timeout: Config.Duration("LLM_TIMEOUT").pipe(Config.withDefault(Duration.seconds(5))),
  concurrency: Config.Int("LLM_CONCURRENCY").pipe(Config.withDefault(4))
})

/**
 * `INTENT_CLASSIFIER`: `rules` (default) or `llm`. `llm` needs `LLM_BASE_URL`,
 * `LLM_API_KEY` (Redacted) and `LLM_MODEL`, each missing one named in the
 * error; with `rules`, those three still go together (all or none), so a
 * half-written LLM setup fails at start instead of being silently ignored.
 * `LLM_TIMEOUT` (default 5 seconds) bounds a whole classification, and
 * `LLM_CONCURRENCY` (default 4) the calls in flight per process.
 */
export type IntentClassifierSettings = { readonly kind: "rules" } | { readonly kind: "llm"; readonly llm: LlmClassifierSettings }

export const intentClassifierConfig: Config.Config<IntentClassifierSettings> = Config.Literals(["rules", "llm"], "INTENT_CLASSIFIER").pipe(
  Config.withDefault("rules" as const),
  Config.flatMap((kind): Config.Config<IntentClassifierSettings> =>
    kind === "llm"
      ? Config.map(llmSettings, (llm) => ({ kind: "llm" as const, llm }))
      : Config.map(allOrNone(llmVariables, llmSettings), () => ({ kind: "rules" as const }))
  )
)

/** The classifier the workers use: the rules, or the LLM adapter with the rules as its fallback. */
export const intentClassifierLayer = (settings: IntentClassifierSettings): Layer.Layer<IntentClassifier, never, Worksite> =>
  settings.kind === "rules"
    ? RuleIntentClassifier
    : LlmIntentClassifier.layer(settings.llm).pipe(
      Layer.tap(() =>
        Effect.logInfo("intent classifier: LLM, rules as fallback").pipe(Effect.annotateLogs({
          event: "server.classifier",
          model: settings.llm.model,
          // The host only: a base URL can carry credentials in its userinfo or query.
          host: Option.getOrElse(Option.liftThrowable(() => new URL(settings.llm.baseUrl).host)(), () => "invalid")
        }))
      )
    )
