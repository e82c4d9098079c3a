import { PgClient } from "@effect/sql-pg"
import { Effect, Schema } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { sqlErrorDetail } from "./mapSqlError.ts"
import { splitStatements } from "./splitStatements.ts"

/** The repository's `migrations/` folder: `NNNN_name.up.sql` and its `NNNN_name.down.sql`. */
export const defaultMigrationsDir = fileURLToPath(new URL("../../../migrations/", import.meta.url))

export interface Migration {
  readonly version: number
  readonly name: string
  readonly up: string
  readonly down: string
}

export interface MigrationStatus {
  readonly version: number
  readonly name: string
  readonly appliedAt: Date | undefined
}

export class MigrationError extends Schema.TaggedError<MigrationError>()("MigrationError", {
  message: Schema.String
}) {}

export const loadMigrations = (dir: string = defaultMigrationsDir): ReadonlyArray<Migration> => {
  const files = readdirSync(dir)
  return files
    .map((file) => /^(\d{4})_(.+)\.up\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([file, version, name]) => {
      const downFile = `${version}_${name}.down.sql`
      if (!files.includes(downFile)) throw new Error(`migration ${file} has no ${downFile}`)
      return {
        version: Number(version),
        name: name!,
        up: readFileSync(`${dir}/${file}`, "utf8"),
        down: readFileSync(`${dir}/${downFile}`, "utf8")
      }
    })
    .sort((a, b) => a.version - b.version)
}

// Any fixed number: several instances starting at once migrate one at a time.
const migrationLock = 5_410_831

const fail = (message: string) => (cause: { readonly message: string }) =>
  new MigrationError({ message: `${message}: ${sqlErrorDetail(cause)}` })

/**
 * Applies, rolls back and reports the numbered SQL migrations. Each migration
 * runs in its own transaction under a transaction-scoped advisory lock
 * (`pg_advisory_xact_lock`, never a session lock: through a transaction pooler
 * the session is not ours), so a failed one leaves nothing half-applied and
 * concurrent starts do not race.
 */
export const makeMigrator = (migrations: ReadonlyArray<Migration> = loadMigrations()) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient

    // Under the lock too: two concurrent CREATE TABLE IF NOT EXISTS race on pg_type and one fails.
    const ensureTable = Effect.gen(function*() {
      yield* sql`SELECT pg_advisory_xact_lock(${migrationLock})`
      yield* sql`
        CREATE TABLE IF NOT EXISTS parley_migrations (
          version    integer PRIMARY KEY,
          name       text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`
    }).pipe(sql.withTransaction, Effect.mapError(fail("creating parley_migrations")))

    const applied = Effect.map(
      sql<{ version: number; name: string; applied_at: Date }>`SELECT version, name, applied_at FROM parley_migrations ORDER BY version`,
      (rows) => new Map(rows.map((r) => [r.version, r]))
    )

    const runScript = (script: string) => Effect.forEach(splitStatements(script), (statement) => sql.unsafe(statement), { discard: true })

    const step = (migration: Migration, direction: "up" | "down") =>
      Effect.gen(function*() {
        yield* sql`SELECT pg_advisory_xact_lock(${migrationLock})`
        const done = (yield* applied).has(migration.version)
        if (direction === "up" && done) return false
        if (direction === "down" && !done) return false
        yield* runScript(direction === "up" ? migration.up : migration.down)
        yield* direction === "up"
          ? sql`INSERT INTO parley_migrations (version, name) VALUES (${migration.version}, ${migration.name})`
          : sql`DELETE FROM parley_migrations WHERE version = ${migration.version}`
        return true
      }).pipe(
        sql.withTransaction,
        Effect.mapError(fail(`migration ${migration.version}_${migration.name} ${direction}`)),
        Effect.tap((ran) => ran ? Effect.logInfo(`migration ${direction}`).pipe(Effect.annotateLogs({ event: `migration.${direction}`, version: migration.version, name: migration.name })) : Effect.void)
      )

    /** Versions applied in the database that this code does not know: the database is ahead of it. */
    const unknownApplied = Effect.map(applied, (rows) => [...rows.keys()].filter((v) => !migrations.some((m) => m.version === v)))

    const status = Effect.gen(function*() {
      yield* ensureTable
      const rows = yield* applied.pipe(Effect.mapError(fail("reading parley_migrations")))
      return migrations.map((m): MigrationStatus => ({ version: m.version, name: m.name, appliedAt: rows.get(m.version)?.applied_at }))
    })

    /** Applies every pending migration up to `target` (all by default). Refuses a database that is ahead. */
    const up = (target = Number.POSITIVE_INFINITY) =>
      Effect.gen(function*() {
        yield* ensureTable
        const ahead = yield* unknownApplied.pipe(Effect.mapError(fail("reading parley_migrations")))
        if (ahead.length > 0) {
          return yield* new MigrationError({
            message: `the database has migrations this version of parley does not know (${ahead.join(", ")}); upgrade parley or roll the database back`
          })
        }
        const ran: Array<number> = []
        for (const m of migrations.filter((m) => m.version <= target)) {
          if (yield* step(m, "up")) ran.push(m.version)
        }
        return ran
      })

    /** Rolls back every applied migration above `target` (0 = all), newest first. */
    const down = (target: number) =>
      Effect.gen(function*() {
        yield* ensureTable
        const ran: Array<number> = []
        for (const m of [...migrations].reverse().filter((m) => m.version > target)) {
          if (yield* step(m, "down")) ran.push(m.version)
        }
        return ran
      })

    const latest = migrations.at(-1)?.version ?? 0
    return { up, down, status, latest, unknownApplied }
  })

export type Migrator = Effect.Success<ReturnType<typeof makeMigrator>>
