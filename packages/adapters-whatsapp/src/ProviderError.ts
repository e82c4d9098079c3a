import { Schema } from "effect"
import { WebhookProvider } from "./WebhookErrors.ts"

/**
 * An error the provider reports on its own in a webhook, outside any message
 * or status: Meta's value-level `errors[]` (130429 throughput limit, 131000
 * "something went wrong", 131056 pair rate limit…). Nothing is stored or
 * answered for it; it is logged and counted, and the alert rules watch it.
 */
export class ProviderError extends Schema.Class<ProviderError>("@parley/adapters-whatsapp/ProviderError")({
  provider: WebhookProvider,
  code: Schema.String,
  title: Schema.String,
  details: Schema.optionalKey(Schema.String)
}) {}
