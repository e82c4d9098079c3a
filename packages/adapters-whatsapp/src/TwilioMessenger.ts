import { isPhoneNumber, Messenger, PhoneNumber, SendFailed, type SendFailureReason, type Sent, type UserAddress } from "@parley/core"
import { Config, type Duration, Effect, Layer, Redacted, Result, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { withRequestTimeout } from "./ProviderTimeout.ts"
import { fitReply, twilioLimits } from "./ReplyLimits.ts"
import { twilioBody } from "./TwilioBody.ts"

export interface TwilioConfig {
  /** https://api.twilio.com — a local fake in tests. */
  readonly apiUrl: string
  readonly accountSid: string
  readonly authToken: Redacted.Redacted<string>
  /** The WhatsApp sender, E.164. */
  readonly from: PhoneNumber
  /** The longest one request to the provider may take (default 10 s); keep it below the outbox lease. */
  readonly requestTimeout?: Duration.Duration | undefined
}

const TwilioError = Schema.Struct({ code: Schema.optionalKey(Schema.Finite), message: Schema.String })
const TwilioSent = Schema.Struct({ sid: Schema.String })

const reasonOf = (status: number, code: number | undefined): [SendFailureReason, boolean] => {
  if (status === 429 || code === 20429 || code === 63018) return ["rate_limited", true]
  if (code === 63016) return ["window_closed", false] // free-form message outside the 24-hour window
  if (code === 21211 || code === 21614 || code === 63003 || code === 21408) return ["invalid_recipient", false]
  if (status === 401 || code === 20003) return ["unauthorized", false]
  if (status >= 500) return ["transient", true]
  if (code === 21617 || code === 21602) return ["invalid_reply", false]
  return ["rejected", false]
}

export const twilioFailure = (status: number, body: unknown): SendFailed => {
  const parsed = Schema.decodeUnknownOption(TwilioError)(body)
  const code = parsed._tag === "Some" ? parsed.value.code : undefined
  const [reason, retryable] = reasonOf(status, code)
  return new SendFailed({
    reason,
    retryable,
    message: parsed._tag === "Some" ? parsed.value.message : `HTTP ${status}`,
    ...(code === undefined ? {} : { providerCode: String(code) })
  })
}

/**
 * `Messenger` over Twilio's Messages API (`POST /2010-04-01/Accounts/{Sid}/Messages.json`).
 * Replies are fitted to `twilioLimits` (a `Body` of at most 1600 characters,
 * buttons and lists as numbered text) before any request.
 */
export const makeTwilioMessenger = (config: TwilioConfig) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const endpoint = `${config.apiUrl.replace(/\/+$/, "")}/2010-04-01/Accounts/${config.accountSid}/Messages.json`
    const send = (to: UserAddress, body: string) =>
      HttpClientRequest.post(endpoint).pipe(
        HttpClientRequest.basicAuth(config.accountSid, Redacted.value(config.authToken)),
        HttpClientRequest.bodyUrlParams({ From: `whatsapp:${config.from}`, To: `whatsapp:${to}`, Body: body }),
        http.execute,
        Effect.mapError((e) => new SendFailed({ reason: "transient", retryable: true, message: e.message })),
        Effect.flatMap((response) =>
          response.json.pipe(
            Effect.orElseSucceed(() => undefined as unknown),
            Effect.flatMap((json) =>
              response.status >= 200 && response.status < 300
                ? Schema.decodeUnknownEffect(TwilioSent)(json).pipe(
                  Effect.map((ok): Sent => ({ providerMessageId: ok.sid })),
                  Effect.mapError(() => new SendFailed({ reason: "transient", retryable: true, message: "unexpected Twilio response" }))
                )
                : Effect.fail(twilioFailure(response.status, json))
            )
          )
        ),
        withRequestTimeout(config.requestTimeout)
      )
    return Messenger.of({
      send: (to, reply) =>
        Effect.gen(function*() {
          // Twilio addresses WhatsApp users by phone number only: a business-scoped user id cannot be sent to.
          if (!isPhoneNumber(to)) return yield* new SendFailed({ reason: "invalid_recipient", retryable: false, message: "Twilio cannot send to a business-scoped user id" })
          const fitted = fitReply(reply, twilioLimits)
          if (Result.isFailure(fitted)) return yield* new SendFailed({ reason: "invalid_reply", retryable: false, message: fitted.failure.reason })
          let sent: Sent | undefined
          for (const part of fitted.success) sent = yield* send(to, twilioBody(part))
          return sent!
        }),
      // Twilio marks WhatsApp messages read on its own; there is no API call to make.
      markAsRead: () => Effect.void
    })
  })

export const TwilioMessenger = {
  layer: (config: TwilioConfig): Layer.Layer<Messenger> =>
    Layer.effect(Messenger, makeTwilioMessenger(config)).pipe(Layer.provide(FetchHttpClient.layer)),
  /**
   * The same on the `HttpClient` you provide (the server's: Node's own, on
   * undici's dispatcher, cheaper per request than `fetch`). Every request is
   * still bounded by `requestTimeout`.
   */
  layerWithClient: (config: TwilioConfig): Layer.Layer<Messenger, never, HttpClient.HttpClient> =>
    Layer.effect(Messenger, makeTwilioMessenger(config)),
  /** `TWILIO_API_URL` (default https://api.twilio.com), `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_WHATSAPP_FROM`. */
  layerConfig: Layer.effect(
    Messenger,
    Effect.gen(function*() {
      const apiUrl = yield* Config.String("TWILIO_API_URL").pipe(Config.withDefault("https://api.twilio.com"))
      const accountSid = yield* Config.String("TWILIO_ACCOUNT_SID")
      const authToken = yield* Config.Redacted("TWILIO_AUTH_TOKEN")
      const from = yield* Config.schema(PhoneNumber, "TWILIO_WHATSAPP_FROM")
      return yield* makeTwilioMessenger({ apiUrl, accountSid, authToken, from })
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))
}
