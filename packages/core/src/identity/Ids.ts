import { Schema } from "effect"

/** A subcontractor (the person on the other end of the WhatsApp thread). */
export const UserId = Schema.String.pipe(Schema.brand("UserId"))
export type UserId = typeof UserId.Type

/** One conversation session; a user has at most one `active` at a time. */
export const SessionId = Schema.String.pipe(Schema.brand("SessionId"))
export type SessionId = typeof SessionId.Type

// Ids are minted by whoever creates the row. UUIDs keep the in-memory store and
// Postgres (`gen_random_uuid()`) interchangeable in tests.
export const newSessionId = (): SessionId => SessionId.make(crypto.randomUUID())
