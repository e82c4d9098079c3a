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
