import { Schema } from "effect"

/** A phone number in E.164 (`+` then 7 to 15 digits, no leading zero). Providers' formats are normalised to it at the edge. */
export const PhoneNumber = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^\+[1-9]\d{6,14}$/, { message: "a phone number in E.164 format, like +33612345678" })),
  Schema.brand("PhoneNumber")
)
export type PhoneNumber = typeof PhoneNumber.Type

/**
 * A phone number fit for a log line: the country prefix and the last two digits
 * only (`+33•••••••78`). Logs never carry a full number.
 */
export const maskPhone = (phone: string): string => {
  const digits = phone.replace(/\D/g, "")
  if (digits.length <= 4) return "•".repeat(digits.length)
  return `+${digits.slice(0, 2)}${"•".repeat(digits.length - 4)}${digits.slice(-2)}`
}

// A run of 7 or more digits, with an optional `+` and the separators people type between them.
const phoneLike = /\+?\d(?:[\s\-.()/]*\d){6,}/g

/**
 * `text` with every phone-like run masked (`+33 6 12 34 56 78`, `0033612345678`,
 * `whatsapp:+33612345678`…), for text that may quote one: a URL path, an error
 * from a provider. Longer digit runs (ids) are masked too: a log loses little.
 */
export const maskPhones = (text: string): string => text.replace(phoneLike, maskPhone)
