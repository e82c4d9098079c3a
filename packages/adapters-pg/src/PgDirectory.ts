import { PgClient } from "@effect/sql-pg"
import { Directory, PhoneNumber, User, UserId } from "@parley/core"
import { Effect, Layer, Schema } from "effect"
import { orUnavailable } from "./mapSqlError.ts"

const UserRow = Schema.Struct({ id: Schema.String, phone: Schema.String, display_name: Schema.String, locale: Schema.String })
const decodeRows = Schema.decodeUnknownEffect(Schema.Array(UserRow))

export interface NewUser {
  readonly phone: PhoneNumber
  readonly displayName: string
  /** `fr` or `en` (the table's check); `fr` by default. */
  readonly locale?: "fr" | "en"
}

const columns = "id::text AS id, phone, display_name, locale"
const toUser = (r: typeof UserRow.Type) =>
  new User({ id: UserId.make(r.id), phone: PhoneNumber.make(r.phone), displayName: r.display_name, locale: r.locale })

/**
 * The engine's users on Postgres. They are the rows of `subcontractors` (the
 * seed's name for the table sessions and messages reference), found by phone.
 */
export const makePgDirectory = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  return Directory.of(Directory.fromPhoneLookup((phone) =>
    sql.unsafe(`SELECT ${columns} FROM subcontractors WHERE phone = $1`, [phone]).pipe(
      Effect.flatMap(decodeRows),
      Effect.map(([r]) => r && toUser(r)),
      orUnavailable("directory.byPhone")
    )
  ))
})

export const PgDirectory: Layer.Layer<Directory, never, PgClient.PgClient> = Layer.effect(Directory, makePgDirectory)

/** Adds a user, or returns the one with that phone number: how an embedder registers who may talk to its assistant. */
export const registerUser = (user: NewUser) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const rows = yield* sql.unsafe(
      `INSERT INTO subcontractors (phone, display_name, locale) VALUES ($1, $2, $3)
       ON CONFLICT (phone) DO UPDATE SET phone = EXCLUDED.phone
       RETURNING ${columns}`,
      [user.phone, user.displayName, user.locale ?? "fr"]
    ).pipe(Effect.flatMap(decodeRows))
    return toUser(rows[0]!)
  }).pipe(orUnavailable("directory.register"))
