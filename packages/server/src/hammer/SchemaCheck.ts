import { PgClient } from "@effect/sql-pg"
import { loadMigrations } from "@parley/adapters-pg"
import { Effect, Schema } from "effect"

/** The database is not one the hammer (or the watch) may run on: nothing was written. */
export class HammerRefused extends Schema.TaggedError<HammerRefused>()("HammerRefused", {
  message: Schema.String
}) {}

/**
 * Refuses, before anything is written, a database that is not parley's or
 * whose migrations are behind or ahead of this version. Read-only: it reads
 * `parley_migrations` itself rather than through the migrator, which would
 * create the table on a foreign database.
 */
export const requireParleySchema = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const [tables] = yield* sql<{ migrations: string | null; sessions: string | null }>`
    SELECT to_regclass('parley_migrations')::text AS migrations, to_regclass('conversation_sessions')::text AS sessions`
  if (tables?.migrations == null || tables.sessions == null) {
    return yield* new HammerRefused({
      message: "this database does not have parley's schema (no parley_migrations or conversation_sessions table): point DATABASE_URL at parley's database, or run `parley migrate up` on a new one"
    })
  }
  const applied = new Set((yield* sql<{ version: number }>`SELECT version FROM parley_migrations`).map((r) => r.version))
  const known = loadMigrations()
  const pending = known.filter((m) => !applied.has(m.version)).map((m) => m.version)
  const ahead = [...applied].filter((v) => !known.some((m) => m.version === v))
  if (pending.length > 0) {
    return yield* new HammerRefused({ message: `the database's migrations are behind this version of parley (pending: ${pending.join(", ")}); run \`parley migrate up\` first` })
  }
  if (ahead.length > 0) {
    return yield* new HammerRefused({ message: `the database has migrations this version of parley does not know (${ahead.join(", ")}); run the hammer of the version that deployed them` })
  }
})
