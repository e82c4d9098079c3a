import { PhoneNumber } from "@parley/core"
import { Option, Schema } from "effect"

const decode = Schema.decodeUnknownOption(PhoneNumber)

/**
 * The one place provider phone formats become E.164: Meta sends digits
 * (`33612345678`), Twilio `whatsapp:+33612345678`; spaces, dashes and dots
 * are dropped. `None` when the result is not a valid E.164 number.
 */
export const normalizePhone = (raw: string): Option.Option<PhoneNumber> => {
  const bare = raw.trim().replace(/^whatsapp:/i, "").replace(/[\s().-]/g, "")
  return decode(bare.startsWith("+") ? bare : bare.startsWith("00") ? `+${bare.slice(2)}` : `+${bare}`)
}

/** Meta's Graph API wants the number without the `+`. */
export const toWaId = (phone: PhoneNumber): string => phone.slice(1)
