import { PgClient } from "@effect/sql-pg"
import { PhoneNumber, UserId } from "@parley/core"
import { Array as Arr, Effect } from "effect"

/**
 * The hammer's users live in a range no real user can be in: phone numbers
 * under +999 (a country code the ITU keeps unassigned) and a display name
 * carrying the run's marker. Everything it writes hangs off these users, and
 * every delete below is bounded by both, so a run never touches real data.
 */
export const reservedPrefix = "+999"
export const markerPrefix = "parley-hammer"

export interface ReservedUser {
  readonly id: UserId
  readonly phone: PhoneNumber
}

export interface ReservedUsers {
  readonly runId: string
  /** The display name every user of this run has: the polls' scope. */
  readonly marker: string
  readonly users: ReadonlyArray<ReservedUser>
}

/** `n` users of a new run: +999, six digits of run, four of index. */
export const createReservedUsers = (n: number) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const run = String(Math.floor(Math.random() * 1e6)).padStart(6, "0")
    const runId = `${run}-${Date.now().toString(36)}`
    const marker = `${markerPrefix} ${runId}`
    const users = Array.from({ length: n }, (_, i): ReservedUser => ({
      id: UserId.make(crypto.randomUUID()),
      phone: PhoneNumber.make(`${reservedPrefix}${run}${String(i).padStart(4, "0")}`)
    }))
    const rows = users.map((u): Record<string, unknown> => ({ id: u.id, phone: u.phone, display_name: marker, locale: "en" }))
    if (!Arr.isReadonlyArrayNonEmpty(rows)) return yield* Effect.die(new Error("the hammer needs at least one user"))
    yield* sql`INSERT INTO subcontractors ${sql.insert(rows)}`
    return { runId, marker, users } satisfies ReservedUsers
  })

/**
 * Removes a run's users and everything they caused, in one transaction, in
 * foreign-key order. Each statement is bounded by the reserved prefix and the
 * run's marker.
 */
export const removeReservedUsers = (marker: string) =>
  Effect.flatMap(PgClient.PgClient, (sql) => sql.withTransaction(Effect.gen(function*() {
    const ids = sql`SELECT id FROM subcontractors WHERE display_name = ${marker} AND phone LIKE ${reservedPrefix + "%"}`
    const phones = sql`SELECT phone FROM subcontractors WHERE display_name = ${marker} AND phone LIKE ${reservedPrefix + "%"}`
    const sessions = sql`SELECT id FROM conversation_sessions WHERE subcontractor_id IN (${ids})`
    yield* sql`DELETE FROM incidents WHERE subcontractor_id IN (${ids})`
    yield* sql`DELETE FROM handoffs WHERE session_id IN (${sessions})`
    yield* sql`DELETE FROM outbox WHERE recipient IN (${phones}) OR session_id IN (${sessions})`
    // By session: messages are indexed by session, not by user.
    yield* sql`DELETE FROM messages WHERE session_id IN (${sessions})`
    yield* sql`DELETE FROM conversation_sessions WHERE subcontractor_id IN (${ids})`
    yield* sql`DELETE FROM inbox WHERE sender IN (${phones})`
    yield* sql`DELETE FROM inbox_queues WHERE sender IN (${phones})`
    const removed = yield* sql`DELETE FROM subcontractors WHERE id IN (${ids}) RETURNING id`
    return removed.length
  })))
