import type { DeliveryStatus, InboundMessage } from "@parley/core"
import type { ProviderError } from "./ProviderError.ts"
import type { SkippedItem } from "./SkippedItem.ts"

/**
 * What a webhook delivery contained: user messages for the inbox, delivery
 * reports, the provider's own error notices and skipped items for the logs. Items are read one by one, so an
 * unreadable one is `skipped` and never holds up the others.
 */
export interface Decoded {
  readonly messages: ReadonlyArray<InboundMessage>
  readonly statuses: ReadonlyArray<DeliveryStatus>
  readonly skipped: ReadonlyArray<SkippedItem>
  readonly errors: ReadonlyArray<ProviderError>
}
