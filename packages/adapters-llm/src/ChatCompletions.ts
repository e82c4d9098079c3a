import { Effect, type JsonSchema, Redacted, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { ChatMessage } from "./IntentPrompt.ts"
import { LlmInvalidAnswer, LlmUnavailable } from "./LlmFailure.ts"

export interface ChatCompletionsConfig {
  /** The API root, e.g. https://api.openai.com/v1, https://api.mistral.ai/v1, http://127.0.0.1:11434/v1 (Ollama). */
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  readonly model: string
}

/** The part of a chat-completions response read here; other fields are ignored. */
const ChatCompletion = Schema.Struct({
  choices: Schema.Array(Schema.Struct({
    message: Schema.Struct({
      content: Schema.optionalKey(Schema.NullOr(Schema.String)),
      refusal: Schema.optionalKey(Schema.NullOr(Schema.String))
    })
  })),
  usage: Schema.optionalKey(Schema.Struct({
    prompt_tokens: Schema.optionalKey(Schema.Finite),
    completion_tokens: Schema.optionalKey(Schema.Finite)
  }))
})

export interface Completion {
  readonly content: string
  readonly promptTokens: number
  readonly completionTokens: number
}

const decodeCompletion = Schema.decodeUnknownEffect(ChatCompletion)

/**
 * One `POST {baseUrl}/chat/completions` asking for structured output
 * (`response_format: json_schema`, strict), as OpenAI, Mistral, Azure,
 * OpenRouter, vLLM and Ollama accept it. Temperature 0 and a small
 * `max_tokens`: the answer is a few short fields.
 */
export const makeChatCompletions = (config: ChatCompletionsConfig) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const endpoint = `${config.baseUrl.replace(/\/+$/, "")}/chat/completions`
    return {
      complete: (messages: ReadonlyArray<ChatMessage>, format: { readonly name: string; readonly schema: JsonSchema.JsonSchema }) =>
        HttpClientRequest.post(endpoint).pipe(
          HttpClientRequest.bearerToken(Redacted.value(config.apiKey)),
          HttpClientRequest.bodyJsonUnsafe({
            model: config.model,
            messages,
            response_format: { type: "json_schema", json_schema: { name: format.name, strict: true, schema: format.schema } },
            temperature: 0,
            max_tokens: 300
          }),
          http.execute,
          Effect.mapError((e) => new LlmUnavailable({ retryable: true, message: e.message.slice(0, 200) })),
          Effect.flatMap((response): Effect.Effect<typeof ChatCompletion.Type, LlmUnavailable | LlmInvalidAnswer> =>
            response.status >= 200 && response.status < 300
              ? response.json.pipe(
                Effect.flatMap(decodeCompletion),
                Effect.mapError(() => new LlmInvalidAnswer({ reason: "response_shape", message: "not a chat completion" }))
              )
              : Effect.fail(new LlmUnavailable({
                retryable: response.status === 429 || response.status >= 500,
                status: response.status,
                message: `HTTP ${response.status}`
              }))
          ),
          Effect.flatMap((completion) => {
            const message = completion.choices[0]?.message
            if (message?.refusal) return Effect.fail(new LlmInvalidAnswer({ reason: "refused", message: "the model refused" }))
            return Effect.succeed({
              content: message?.content ?? "",
              promptTokens: completion.usage?.prompt_tokens ?? 0,
              completionTokens: completion.usage?.completion_tokens ?? 0
            } satisfies Completion)
          })
        )
    }
  })
