/**
 * What must not leave the process, replaced by placeholders before any text
 * is put into a prompt: the user's name, phone numbers (seven digits or more,
 * however written), e-mail addresses, and strings that look like keys or
 * tokens. Over-masking a long number is the price of never sending a phone.
 */
const phone = /\+?\d[\d\s().-]{5,}\d/g
const email = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu
// Keys as providers print them (sk-…, ghp_…, xoxb-…, Bearer …), and any long run mixing letters and digits.
const keyLike = /\b(?:sk|pk|rk|ghp|gho|github_pat|xox[abp]|AKIA)[-_]?[A-Za-z0-9_-]{8,}|\bBearer\s+\S+|\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}\b/g

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const digitCount = (s: string) => s.replace(/\D/g, "").length

export const maskPersonalData = (text: string, names: ReadonlyArray<string>): string => {
  let masked = text.replace(keyLike, "[secret]").replace(email, "[email]")
  masked = masked.replace(phone, (match) => (digitCount(match) >= 7 ? "[phone]" : match))
  for (const name of names) {
    const trimmed = name.trim()
    if (trimmed.length < 2) continue
    masked = masked.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escape(trimmed)}(?![\\p{L}\\p{N}])`, "giu"), "[name]")
  }
  return masked
}
