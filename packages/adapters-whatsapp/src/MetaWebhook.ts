import { Config, Context, Effect, Layer, Redacted } from "effect"
import type { Decoded } from "./Decoded.ts"
import { decodeMetaWebhook } from "./MetaDecoder.ts"
import { verifyMetaSignature } from "./MetaSignature.ts"
import { constantTimeEqual } from "./constantTime.ts"
import { storable } from "./Storable.ts"
import { SignatureError, VerificationFailed, WebhookDecodeError } from "./WebhookErrors.ts"

export interface MetaWebhookConfig {
  readonly appSecret: Redacted.Redacted<string>
  readonly verifyToken: Redacted.Redacted<string>
}

/**
 * The Cloud API webhook: the GET verification handshake, and POST bodies
 * verified against `X-Hub-Signature-256` on their exact bytes before anything
 * is decoded.
 */
export class MetaWebhook extends Context.Service<MetaWebhook, {
  verifyHandshake(query: URLSearchParams): Effect.Effect<string, VerificationFailed>
  verifyAndDecode(rawBody: Uint8Array, signature: string | undefined): Effect.Effect<Decoded, SignatureError | WebhookDecodeError>
}>()("@parley/adapters-whatsapp/MetaWebhook") {
  static readonly make = (config: MetaWebhookConfig) =>
    MetaWebhook.of({
      verifyHandshake: (query) =>
        Effect.suspend(() => {
          const challenge = query.get("hub.challenge")
          if (query.get("hub.mode") !== "subscribe") return Effect.fail(new VerificationFailed({ reason: "hub.mode is not subscribe" }))
          if (!constantTimeEqual(query.get("hub.verify_token") ?? "", Redacted.value(config.verifyToken))) {
            return Effect.fail(new VerificationFailed({ reason: "wrong verify token" }))
          }
          if (challenge === null || challenge === "") return Effect.fail(new VerificationFailed({ reason: "no hub.challenge" }))
          return Effect.succeed(challenge)
        }),
      verifyAndDecode: (rawBody, signature) =>
        verifyMetaSignature(config.appSecret, rawBody, signature).pipe(Effect.andThen(decodeMetaWebhook(rawBody)), Effect.map(storable("meta")))
    })

  static readonly layer = (config: MetaWebhookConfig) => Layer.succeed(MetaWebhook, MetaWebhook.make(config))

  /** `META_APP_SECRET`, `META_VERIFY_TOKEN`. */
  static readonly layerConfig = Layer.effect(
    MetaWebhook,
    Effect.gen(function*() {
      const appSecret = yield* Config.Redacted("META_APP_SECRET")
      const verifyToken = yield* Config.Redacted("META_VERIFY_TOKEN")
      return MetaWebhook.make({ appSecret, verifyToken })
    })
  )
}
