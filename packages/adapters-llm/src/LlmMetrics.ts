import { Metric } from "effect"

/** `outcome`: llm (the model's answer was used), fallback_timeout, fallback_invalid, fallback_error (HTTP, network, open circuit). */
export const llmClassifications = Metric.counter("parley_llm_classifications_total", {
  description: "Free-text messages given to the LLM classifier, by outcome (llm, fallback_timeout, fallback_invalid, fallback_error)",
  incremental: true
})

export const llmSeconds = Metric.histogram("parley_llm_classify_seconds", {
  description: "Time the LLM classifier took for one message, fallback included",
  boundaries: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10]
})

/** `kind`: prompt or completion, as the endpoint reported them. */
export const llmTokens = Metric.counter("parley_llm_tokens_total", {
  description: "Tokens the LLM endpoint reported, by kind (prompt, completion)",
  incremental: true
})

export const llmBreakerOpened = Metric.counter("parley_llm_breaker_opened_total", {
  description: "Times the LLM classifier's circuit breaker opened (the rules then answer alone)",
  incremental: true
})

export type LlmOutcome = "llm" | "fallback_timeout" | "fallback_invalid" | "fallback_error"
