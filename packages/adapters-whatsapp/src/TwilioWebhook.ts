import { Config, Context, Effect, Layer, Redacted } from "effect"
import type { Decoded } from "./Decoded.ts"
import { fromTwilioForm } from "./TwilioDecoder.ts"
import { storable } from "./Storable.ts"
import { verifyTwilioSignature } from "./TwilioSignature.ts"
import { SignatureError, WebhookDecodeError } from "./WebhookErrors.ts"

export interface TwilioWebhookConfig {
  readonly authToken: Redacted.Redacted<string>
  /** The public URL Twilio posts to (behind a proxy it differs from what the server sees), without the path. */
  readonly publicBaseUrl: string
}

/** Twilio's WhatsApp webhook: form bodies checked against `X-Twilio-Signature` before decoding. */
export class TwilioWebhook extends Context.Service<TwilioWebhook, {
  /** `pathAndQuery` as received (e.g. `/webhooks/twilio?x=1`); the signed URL is the public base URL + it. */
  verifyAndDecode(
    rawBody: Uint8Array,
    pathAndQuery: string,
    signature: string | undefined,
    now: number
  ): Effect.Effect<Decoded, SignatureError | WebhookDecodeError>
}>()("@parley/adapters-whatsapp/TwilioWebhook") {
  static readonly make = (config: TwilioWebhookConfig) =>
    TwilioWebhook.of({
      verifyAndDecode: (rawBody, pathAndQuery, signature, now) =>
        Effect.suspend(() => {
          const form = new URLSearchParams(new TextDecoder().decode(rawBody))
          const url = config.publicBaseUrl.replace(/\/+$/, "") + pathAndQuery
          return verifyTwilioSignature(config.authToken, url, [...form.entries()], signature).pipe(
            Effect.andThen(fromTwilioForm(form, now)),
            Effect.map(storable("twilio"))
          )
        })
    })

  static readonly layer = (config: TwilioWebhookConfig) => Layer.succeed(TwilioWebhook, TwilioWebhook.make(config))

  /** `TWILIO_AUTH_TOKEN`, `PUBLIC_BASE_URL`. */
  static readonly layerConfig = Layer.effect(
    TwilioWebhook,
    Effect.gen(function*() {
      const authToken = yield* Config.Redacted("TWILIO_AUTH_TOKEN")
      const publicBaseUrl = yield* Config.String("PUBLIC_BASE_URL")
      return TwilioWebhook.make({ authToken, publicBaseUrl })
    })
  )
}
