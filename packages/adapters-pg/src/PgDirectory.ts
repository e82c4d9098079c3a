import { PgClient } from "@effect/sql-pg"
import { BusinessScopedUserId, Directory, PhoneNumber, User, UserId } from "@parley/core"
import { Effect, Layer, Schema } from "effect"
import { orUnavailable } from "./mapSqlError.ts"

const UserRow = Schema.Struct({
  id: Schema.String,
  phone: PhoneNumber,
  whatsapp_user_id: Schema.NullOr(BusinessScopedUserId),
  display_name: Schema.String,
  locale: Schema.String
})
const decodeRows = Schema.decodeUnknownEffect(Schema.Array(UserRow))
const columns = "id::text AS id, phone, whatsapp_user_id, display_name, locale"
const toUser = (r: typeof UserRow.Type) =>
  new User({
    id: UserId.make(r.id),
    phone: r.phone,
    ...(r.whatsapp_user_id === null ? {} : { whatsappUserId: r.whatsapp_user_id }),
    displayName: r.display_name,
    locale: r.locale
  })

export interface NewUser {
  readonly phone: PhoneNumber
  readonly displayName: string
  /** `fr` or `en` (the table's check); `fr` by default. */
  readonly locale?: "fr" | "en"
}

/**
 * The engine's users on Postgres: the rows of `subcontractors` (the seed's
 * name for the table sessions and messages reference), found by phone number
 * or by WhatsApp business-scoped user id (migration 0008).
 */
export const makePgDirectory = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  const user = (where: string, params: ReadonlyArray<unknown>) =>
    sql.unsafe(`SELECT ${columns} FROM subcontractors WHERE ${where}`, params as Array<unknown>).pipe(
      Effect.flatMap(decodeRows),
      Effect.map(([r]) => r && toUser(r))
    )
  // The id is taken from whoever had it, then given to the user, in one transaction: an id names one user.
  const linkUserId = (id: string, userId: string) =>
    sql.withTransaction(Effect.gen(function*() {
      yield* sql`UPDATE subcontractors SET whatsapp_user_id = NULL WHERE whatsapp_user_id = ${userId} AND id <> ${id}::uuid`
      yield* sql`UPDATE subcontractors SET whatsapp_user_id = ${userId} WHERE id = ${id}::uuid AND whatsapp_user_id IS DISTINCT FROM ${userId}`
    }))

  return Directory.of({
    byPhone: (phone) => user("phone = $1", [phone]).pipe(orUnavailable("directory.byPhone")),

    identify: ({ phone, userId }) =>
      Effect.gen(function*() {
        const byPhone = phone === undefined ? undefined : yield* user("phone = $1", [phone])
        if (byPhone === undefined) return userId === undefined ? undefined : yield* user("whatsapp_user_id = $1", [userId])
        if (userId === undefined || byPhone.whatsappUserId === userId) return byPhone
        yield* linkUserId(byPhone.id, userId)
        return yield* user("id = $1::uuid", [byPhone.id])
      }).pipe(orUnavailable("directory.identify")),

    updateIdentity: (id, change) =>
      Effect.gen(function*() {
        // A number another user has is refused (the directory never merges two people); applying it twice is a no-op.
        if (change.phone !== undefined) {
          yield* sql`
            UPDATE subcontractors SET phone = ${change.phone}
            WHERE id = ${id}::uuid AND phone <> ${change.phone}
              AND NOT EXISTS (SELECT 1 FROM subcontractors o WHERE o.phone = ${change.phone})`
        }
        if (change.userId !== undefined) yield* linkUserId(id, change.userId)
        return yield* user("id = $1::uuid", [id])
      }).pipe(orUnavailable("directory.updateIdentity"))
  })
})

export const PgDirectory: Layer.Layer<Directory, never, PgClient.PgClient> = Layer.effect(Directory, makePgDirectory)

/** Adds a user, or returns the one with that phone number: how an embedder registers who may talk to its assistant. */
export const registerUser = (newUser: NewUser) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const rows = yield* sql.unsafe(
      `INSERT INTO subcontractors (phone, display_name, locale) VALUES ($1, $2, $3)
       ON CONFLICT (phone) DO UPDATE SET phone = EXCLUDED.phone
       RETURNING ${columns}`,
      [newUser.phone, newUser.displayName, newUser.locale ?? "fr"]
    ).pipe(Effect.flatMap(decodeRows))
    return toUser(rows[0]!)
  }).pipe(orUnavailable("directory.register"))
