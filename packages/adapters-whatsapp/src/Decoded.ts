import type { DeliveryStatus, InboundMessage } from "@parley/core"

/** What a webhook delivery contained: user messages for the inbox, delivery reports for the logs. */
export interface Decoded {
  readonly messages: ReadonlyArray<InboundMessage>
  readonly statuses: ReadonlyArray<DeliveryStatus>
}
