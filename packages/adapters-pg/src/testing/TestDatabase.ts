import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import { inject } from "vitest"
import { makeMigrator } from "../Migrations.ts"

/** The server the test run uses (see `globalSetup`). No database is a failure, never a skip. */
export const serverUrl = (): string => {
  const url = inject("parleyDatabaseUrl")
  if (url === undefined || url === "") {
    throw new Error("No Postgres for the tests: set DATABASE_URL, or let the vitest globalSetup start an embedded one")
  }
  return url
}

const withDatabase = (url: string, database: string) => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

export interface ScratchDatabase {
  readonly name: string
  readonly url: string
}

/** Creates an empty database with a random name and drops it when the scope closes. */
export const scratchDatabase = Effect.acquireRelease(
  Effect.gen(function*() {
    const admin = serverUrl()
    const name = `parley_t_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`
    yield* Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      yield* sql.unsafe(`CREATE DATABASE ${name}`)
    }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(admin), maxConnections: 1 })), Effect.orDie)
    return { name, url: withDatabase(admin, name) } satisfies ScratchDatabase
  }),
  ({ name }) =>
    Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      yield* sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(serverUrl()), maxConnections: 1 })), Effect.orDie)
)

export interface TestDatabaseOptions {
  readonly maxConnections?: number
  /** Migrate up to this version only (default: all). */
  readonly migrateTo?: number
}

/** Its own scratch database for the test file, migrated, as a `PgClient` (and `SqlClient`) layer. */
export const TestDatabase = (options: TestDatabaseOptions = {}) =>
  Layer.unwrap(
    Effect.gen(function*() {
      const db = yield* scratchDatabase
      const client = PgClient.layer({ url: Redacted.make(db.url), maxConnections: options.maxConnections ?? 10 })
      const migrate = Layer.effectDiscard(Effect.gen(function*() {
        const migrator = yield* makeMigrator()
        yield* migrator.up(options.migrateTo)
      }))
      return Layer.merge(migrate.pipe(Layer.provide(client)), Layer.succeed(ScratchDatabaseInfo, db)).pipe(Layer.provideMerge(client))
    })
  ).pipe(Layer.orDie)

/** The scratch database's name and URL, for tests that open their own connections (child processes). */
export const ScratchDatabaseInfo = Context.Service<ScratchDatabase>("@parley/adapters-pg/testing/ScratchDatabase")

/** `scratchDatabase` for plain async tests (child processes, servers): call `drop` when done. */
export const createScratchDatabase = async (): Promise<ScratchDatabase & { readonly drop: () => Promise<void> }> => {
  const scope = Scope.makeUnsafe()
  const db = await Effect.runPromise(Scope.provide(scratchDatabase, scope))
  return { ...db, drop: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
