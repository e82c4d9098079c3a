import { classifyByRules, IntentClassifier, Worksite, type Classification, type Project, type UserId } from "@parley/core"
import { Duration, Effect, Layer, Metric, type Redacted, Semaphore } from "effect"
import { FetchHttpClient, HttpClient } from "effect/http"
import { makeChatCompletions } from "./ChatCompletions.ts"
import { defaultBreaker, makeCircuitBreaker, type CircuitBreakerSettings } from "./CircuitBreaker.ts"
import { intentAnswerFormat, parseAnswer, resolveSlots } from "./IntentAnswer.ts"
import { intentPrompt } from "./IntentPrompt.ts"
import { LlmTimeout, LlmUnavailable, type LlmFailure } from "./LlmFailure.ts"
import { llmBreakerOpened, llmClassifications, llmSeconds, llmTokens, type LlmOutcome } from "./LlmMetrics.ts"

export interface LlmClassifierSettings {
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  readonly model: string
  /** The whole classification: waiting for a permit, the call and its one retry. Past it, the rules answer. */
  readonly timeout: Duration.Input
  /** Calls in flight at once per process; more wait for a permit (inside the timeout). */
  readonly concurrency?: number | undefined
  readonly breaker?: CircuitBreakerSettings | undefined
}

const outcomeOf = (failure: LlmFailure): LlmOutcome => {
  switch (failure._tag) {
    case "LlmTimeout":
      return "fallback_timeout"
    case "LlmInvalidAnswer":
      return "fallback_invalid"
    case "LlmUnavailable":
    case "LlmCircuitOpen":
      return "fallback_error"
  }
}

/**
 * `IntentClassifier` over an OpenAI-compatible chat-completions endpoint,
 * with the rule classifier as its fallback: it never fails. The model sees
 * the masked, bounded conversation and the user's site names; its answer is
 * decoded with `Schema` and its slots checked against the user's data
 * (`resolveSlots`), and anything off is a typed failure answered by the
 * rules. One retry for a network error, 429 or 5xx; the timeout bounds both
 * attempts; a semaphore caps calls in flight; a circuit breaker skips the
 * endpoint after repeated failures.
 */
export const makeLlmIntentClassifier = (settings: LlmClassifierSettings) =>
  Effect.gen(function*() {
    const worksite = yield* Worksite
    const chat = yield* makeChatCompletions(settings)
    const timeout = Duration.fromInputUnsafe(settings.timeout)
    const permits = yield* Semaphore.make(settings.concurrency ?? 4)
    const breaker = makeCircuitBreaker(
      settings.breaker ?? defaultBreaker,
      Effect.all([
        Metric.update(llmBreakerOpened, 1),
        Effect.logWarning("LLM classifier circuit opened: the rules answer alone for a while").pipe(
          Effect.annotateLogs({ event: "llm.breaker_opened" })
        )
      ], { discard: true })
    )
    // Without the user's data the answer cannot be checked: the rules answer (they need none).
    const storeFailed = () => new LlmUnavailable({ retryable: false, message: "the user's sites could not be read" })
    const tasksOf = (userId: UserId) => (site: Project) => worksite.tasksOf(userId, site.id).pipe(Effect.mapError(storeFailed))

    const ask = Effect.fn("LlmIntentClassifier.ask")(function*(...[text, history, user]: Parameters<IntentClassifier["Service"]["classify"]>) {
      const sites = yield* worksite.projectsOf(user.id).pipe(Effect.mapError(storeFailed))
      const completion = yield* chat.complete(intentPrompt(text, history, user, sites), { name: "intent_classification", schema: intentAnswerFormat.jsonSchema }).pipe(
        Effect.retry({ times: 1, while: (e) => e._tag === "LlmUnavailable" && e.retryable })
      )
      yield* Metric.update(llmTokens.pipe(Metric.withAttributes({ kind: "prompt" })), completion.promptTokens)
      yield* Metric.update(llmTokens.pipe(Metric.withAttributes({ kind: "completion" })), completion.completionTokens)
      const answer = yield* parseAnswer(completion.content)
      const slots = yield* resolveSlots(answer, { text, history, sites, tasksOf: tasksOf(user.id) })
      return { intent: answer.intent, contextSize: history.length, slots } satisfies Classification
    })

    const classify = Effect.fn("LlmIntentClassifier.classify")(function*(...args: Parameters<IntentClassifier["Service"]["classify"]>) {
      const [text, history] = args
      const result = yield* ask(...args).pipe(
        permits.withPermit,
        Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(new LlmTimeout({ timeoutMillis: Duration.toMillis(timeout) })) }),
        breaker.guard,
        Effect.result
      )
      const outcome: LlmOutcome = result._tag === "Success" ? "llm" : outcomeOf(result.failure)
      yield* Metric.update(llmClassifications.pipe(Metric.withAttributes({ outcome })), 1)
      yield* Effect.annotateCurrentSpan({ "llm.outcome": outcome, "llm.model": settings.model })
      if (result._tag === "Success") return result.success
      // No text, name or slot in the line: the failure's tag and reason say what went wrong.
      yield* Effect.logWarning("LLM classifier fell back to the rules").pipe(Effect.annotateLogs({
        event: "llm.fallback",
        outcome,
        failure: result.failure._tag,
        ...(result.failure._tag === "LlmInvalidAnswer" ? { reason: result.failure.reason } : {}),
        ...(result.failure._tag === "LlmUnavailable" && result.failure.status !== undefined ? { status: result.failure.status } : {})
      }))
      return { intent: classifyByRules(text, history), contextSize: history.length } satisfies Classification
    }, Effect.trackDuration(llmSeconds, Duration.toSeconds))

    return IntentClassifier.of({ classify })
  })

export const LlmIntentClassifier = {
  /** Needs the `Worksite` (the user's sites, to list in the prompt and check the answer against). */
  layer: (settings: LlmClassifierSettings): Layer.Layer<IntentClassifier, never, Worksite> =>
    Layer.effect(IntentClassifier, makeLlmIntentClassifier(settings)).pipe(Layer.provide(FetchHttpClient.layer)),
  layerWithClient: (settings: LlmClassifierSettings): Layer.Layer<IntentClassifier, never, Worksite | HttpClient.HttpClient> =>
    Layer.effect(IntentClassifier, makeLlmIntentClassifier(settings))
}
