import { Schema } from "effect"

export const WebhookProvider = Schema.Literals(["meta", "twilio"])
export type WebhookProvider = typeof WebhookProvider.Type

/** The request is not from the provider: missing, malformed or wrong signature. The server answers 401 and stores nothing. */
export class SignatureError extends Schema.TaggedError<SignatureError>()("SignatureError", {
  provider: WebhookProvider,
  reason: Schema.Literals(["missing", "malformed", "mismatch"])
}) {}

/** Signed, but not a payload we understand. The server answers 400 and stores nothing. */
export class WebhookDecodeError extends Schema.TaggedError<WebhookDecodeError>()("WebhookDecodeError", {
  provider: WebhookProvider,
  reason: Schema.String
}) {}

/** Meta's GET handshake with a wrong mode or verify token: 403. */
export class VerificationFailed extends Schema.TaggedError<VerificationFailed>()("VerificationFailed", {
  reason: Schema.String
}) {}
