import type { PhoneNumber } from "@parley/core"

/** Builds a Cloud API webhook body for one user message, as Meta would send it (tests, the dev simulator). */
export const metaWebhookPayload = (options: {
  readonly from: PhoneNumber
  readonly id: string
  readonly timestamp?: number
  readonly profileName?: string
  readonly message: Record<string, unknown>
}) => {
  const waId = options.from.slice(1)
  return {
    object: "whatsapp_business_account",
    entry: [{
      id: "WHATSAPP_BUSINESS_ACCOUNT_ID",
      changes: [{
        field: "messages",
        value: {
          messaging_product: "whatsapp",
          metadata: { display_phone_number: "15550001234", phone_number_id: "PHONE_NUMBER_ID" },
          contacts: [{ profile: { name: options.profileName ?? "Demo" }, wa_id: waId }],
          messages: [{ from: waId, id: options.id, timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)), ...options.message }]
        }
      }]
    }]
  }
}
