import { isPhoneNumber, Messenger, SendFailed, type Reply, type SendFailureReason, type Sent, type UserAddress } from "@parley/core"
import { Config, type Duration, Effect, Layer, Redacted, Result, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { toWaId } from "./normalizePhone.ts"
import { withRequestTimeout } from "./ProviderTimeout.ts"
import { cloudApiLimits, fitReply } from "./ReplyLimits.ts"

export interface CloudApiConfig {
  /** e.g. https://graph.facebook.com/v21.0 — a local fake in tests and dev mode. */
  readonly graphUrl: string
  readonly phoneNumberId: string
  readonly accessToken: Redacted.Redacted<string>
  /** The longest one request to the provider may take (default 10 s); keep it below the outbox lease. */
  readonly requestTimeout?: Duration.Duration | undefined
}

/**
 * The Cloud API's JSON for one reply (already fitted by `fitReply` with
 * `cloudApiLimits`). A phone number goes in `to`; a business-scoped user id
 * in `recipient`, which Meta's Messages API accepts for a BSUID since the
 * username rollout (`to` would win over it, so it is left out).
 */
export const cloudApiPayload = (to: UserAddress, reply: Reply): Record<string, unknown> => {
  const base = { messaging_product: "whatsapp", recipient_type: "individual", ...(isPhoneNumber(to) ? { to: toWaId(to) } : { recipient: to }) }
  const extras = (r: { readonly header?: string; readonly footer?: string }) => ({
    ...(r.header === undefined ? {} : { header: { type: "text", text: r.header } }),
    ...(r.footer === undefined ? {} : { footer: { text: r.footer } })
  })
  switch (reply._tag) {
    case "TextReply":
      return { ...base, type: "text", text: { preview_url: false, body: reply.body } }
    case "ButtonsReply":
      return {
        ...base,
        type: "interactive",
        interactive: {
          type: "button",
          ...extras(reply),
          body: { text: reply.body },
          action: { buttons: reply.buttons.map((b) => ({ type: "reply", reply: { id: b.id, title: b.title } })) }
        }
      }
    case "ListReplyMessage":
      return {
        ...base,
        type: "interactive",
        interactive: {
          type: "list",
          ...extras(reply),
          body: { text: reply.body },
          action: {
            button: reply.button,
            // A lone section may go untitled (`fitReply` refuses that with several); Meta refuses an empty title.
            sections: reply.sections.map((s) => ({
              ...(s.title.trim() === "" ? {} : { title: s.title }),
              rows: s.rows.map((r) => ({ id: r.id, title: r.title, ...(r.description === undefined ? {} : { description: r.description }) }))
            }))
          }
        }
      }
  }
}

const GraphError = Schema.Struct({
  error: Schema.Struct({ message: Schema.String, code: Schema.optionalKey(Schema.Finite), error_subcode: Schema.optionalKey(Schema.Finite) })
})
const GraphSent = Schema.Struct({ messages: Schema.NonEmptyArray(Schema.Struct({ id: Schema.String })) })

const reasonOf = (status: number, code: number | undefined): [SendFailureReason, boolean] => {
  if (status === 429 || code === 4 || code === 80007 || code === 130429 || code === 131048 || code === 131056) return ["rate_limited", true]
  if (code === 131047) return ["window_closed", false] // outside the 24-hour customer service window
  if (code === 131026 || code === 131030 || code === 131021) return ["invalid_recipient", false]
  if (status === 401 || code === 190) return ["unauthorized", false]
  if (status >= 500 || code === 1 || code === 2 || code === 131000 || code === 131016) return ["transient", true]
  if (code === 100 || code === 131008 || code === 131009) return ["invalid_reply", false]
  return ["rejected", false]
}

/** Maps a Graph API error response to `SendFailed`, with the retryability the outbox acts on. */
export const graphFailure = (status: number, body: unknown): SendFailed => {
  const parsed = Schema.decodeUnknownOption(GraphError)(body)
  const code = parsed._tag === "Some" ? parsed.value.error.code : undefined
  const [reason, retryable] = reasonOf(status, code)
  return new SendFailed({
    reason,
    retryable,
    message: parsed._tag === "Some" ? parsed.value.error.message : `HTTP ${status}`,
    ...(code === undefined ? {} : { providerCode: String(code) })
  })
}

const transient = (message: string) => new SendFailed({ reason: "transient", retryable: true, message })

/**
 * `Messenger` over the Cloud API (`POST {graph}/{phone-number-id}/messages`).
 * Replies are fitted to WhatsApp's limits first; one that cannot be fitted
 * fails as `invalid_reply` without a request. A reply id already sent by this
 * process is not sent again (the outbox may retry after a lost `markSent`).
 */
export const makeCloudApiMessenger = (config: CloudApiConfig) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const endpoint = `${config.graphUrl.replace(/\/+$/, "")}/${config.phoneNumberId}/messages`
    const recentlySent = new Map<string, Sent>()

    const post = (payload: Record<string, unknown>) =>
      HttpClientRequest.post(endpoint).pipe(
        HttpClientRequest.bearerToken(Redacted.value(config.accessToken)),
        HttpClientRequest.bodyJsonUnsafe(payload),
        http.execute,
        Effect.mapError((e) => transient(e.message)),
        Effect.flatMap((response) =>
          response.json.pipe(
            Effect.orElseSucceed(() => undefined as unknown),
            Effect.flatMap((body) =>
              response.status >= 200 && response.status < 300 ? Effect.succeed(body) : Effect.fail(graphFailure(response.status, body))
            )
          )
        ),
        withRequestTimeout(config.requestTimeout)
      )

    return Messenger.of({
      send: (to, reply, replyId) =>
        Effect.gen(function*() {
          const already = recentlySent.get(replyId)
          if (already !== undefined) return already
          const fitted = fitReply(reply, cloudApiLimits)
          if (Result.isFailure(fitted)) {
            return yield* new SendFailed({ reason: "invalid_reply", retryable: false, message: fitted.failure.reason })
          }
          let sent: Sent | undefined
          for (const part of fitted.success) {
            const ok = yield* post(cloudApiPayload(to, part)).pipe(
              Effect.flatMap((body) => Schema.decodeUnknownEffect(GraphSent)(body).pipe(Effect.mapError(() => transient("unexpected Graph API response"))))
            )
            sent = { providerMessageId: ok.messages[0].id }
          }
          if (recentlySent.size >= 10_000) recentlySent.delete(recentlySent.keys().next().value!)
          recentlySent.set(replyId, sent!)
          return sent!
        }),
      markAsRead: (providerMessageId) =>
        post({ messaging_product: "whatsapp", status: "read", message_id: providerMessageId }).pipe(Effect.asVoid)
    })
  })

export const CloudApiMessenger = {
  layer: (config: CloudApiConfig): Layer.Layer<Messenger> =>
    Layer.effect(Messenger, makeCloudApiMessenger(config)).pipe(Layer.provide(FetchHttpClient.layer)),
  /**
   * The same on the `HttpClient` you provide (the server's: Node's own, on
   * undici's dispatcher, cheaper per request than `fetch`). Every request is
   * still bounded by `requestTimeout`.
   */
  layerWithClient: (config: CloudApiConfig): Layer.Layer<Messenger, never, HttpClient.HttpClient> =>
    Layer.effect(Messenger, makeCloudApiMessenger(config)),
  /** `META_GRAPH_URL` (default https://graph.facebook.com/v21.0), `META_PHONE_NUMBER_ID`, `META_ACCESS_TOKEN`. */
  layerConfig: Layer.effect(
    Messenger,
    Effect.gen(function*() {
      const graphUrl = yield* Config.String("META_GRAPH_URL").pipe(Config.withDefault("https://graph.facebook.com/v21.0"))
      const phoneNumberId = yield* Config.String("META_PHONE_NUMBER_ID")
      const accessToken = yield* Config.Redacted("META_ACCESS_TOKEN")
      return yield* makeCloudApiMessenger({ graphUrl, phoneNumberId, accessToken })
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))
}
