import { Schema } from "effect"
import { maskPhone, PhoneNumber } from "./PhoneNumber.ts"

/**
 * WhatsApp's business-scoped user id (BSUID): an ISO country code, a dot, an
 * optional `ENT.` (a parent BSUID shared by a business's portfolios) and up to
 * 128 letters and digits, e.g. `US.13491208655302741918`. Meta sends it with
 * every message since 2026-03-31, and instead of the phone number for a user
 * with a username who has not written recently.
 */
export const BusinessScopedUserId = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$/, { message: "a business-scoped user id, like US.13491208655302741918" })),
  Schema.brand("BusinessScopedUserId")
)
export type BusinessScopedUserId = typeof BusinessScopedUserId.Type

/** Where a user is reached: their phone number when the provider gives it, else their business-scoped user id. */
export const UserAddress = Schema.Union([PhoneNumber, BusinessScopedUserId])
export type UserAddress = typeof UserAddress.Type

export const isPhoneNumber = Schema.is(PhoneNumber)

/** An address fit for a log line: a masked phone number, or a BSUID's country and last two characters. */
export const maskAddress = (address: string): string =>
  /^\+?\d/.test(address) ? maskPhone(address) : `${address.slice(0, 3)}•••${address.slice(-2)}`
