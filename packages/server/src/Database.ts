import { PgClient } from "@effect/sql-pg"
import { seedDemo } from "@parley/worksite/pg"
import {
  type ListenerOptions,
  makeMigrator,
  PgListenerLayer,
  PollingListenerLayer,
  type PoolMode,
  poolModeOptions,
  sqlErrorDetail
} from "@parley/adapters-pg"
import { isAlive, runningPostmaster, startEmbeddedPostgres } from "@parley/adapters-pg/embedded"
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { resolve } from "node:path"
import type { ServerConfig } from "./ServerConfig.ts"

export interface ResolvedDatabase {
  readonly url: Redacted.Redacted<string>
  /** For LISTEN, migrations and `doctor` when `url` is a transaction pooler. */
  readonly directUrl: Option.Option<Redacted.Redacted<string>>
  readonly mode: PoolMode
  readonly embedded: boolean
  /** Why `mode` was chosen, when it was not set explicitly. */
  readonly detected?: string | undefined
}

/** The database could not be reached: which one, through which setting, and why. */
export class DatabaseUnreachable extends Schema.TaggedError<DatabaseUnreachable>()("DatabaseUnreachable", {
  setting: Schema.String,
  host: Schema.String,
  port: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot reach the database at ${this.host}:${this.port} (${this.setting}): ${this.reason}`
  }
}

export class EmbeddedPostgresError extends Schema.TaggedError<EmbeddedPostgresError>()("EmbeddedPostgresError", {
  message: Schema.String
}) {}

const hostAndPort = (url: Redacted.Redacted<string>) => {
  try {
    const u = new URL(Redacted.value(url))
    return { host: u.hostname || "localhost", port: u.port || "5432" }
  } catch {
    return { host: "?", port: "?" }
  }
}

/**
 * Supabase's pooler host on 6543 is its transaction pooler (its docs: 5432 on
 * the same host is the session pooler): the one case where the URL alone says
 * how connections are pooled.
 */
const detectPoolMode = (url: Redacted.Redacted<string>): { mode: PoolMode; detected: string } | undefined => {
  const { host, port } = hostAndPort(url)
  return host.endsWith(".pooler.supabase.com") && port === "6543"
    ? { mode: "transaction", detected: "Supabase's transaction pooler (port 6543)" }
    : undefined
}

/** What `start` writes into the data folder so that `parley doctor` / `migrate` reach the same embedded Postgres. */
export const EmbeddedRecord = Schema.Struct({
  ownerPid: Schema.Number,
  postgresPid: Schema.Number,
  host: Schema.String,
  port: Schema.Number,
  user: Schema.String,
  password: Schema.String,
  database: Schema.String,
  dir: Schema.String
})
export type EmbeddedRecord = typeof EmbeddedRecord.Type

export const embeddedRecordFile = (dataDir: string) => resolve(dataDir, "embedded-postgres.json")

const readRecord = (file: string): EmbeddedRecord | undefined => {
  if (!existsSync(file)) return undefined
  try {
    return Schema.decodeUnknownSync(EmbeddedRecord)(JSON.parse(readFileSync(file, "utf8")))
  } catch {
    return undefined
  }
}

const recordUrl = (r: EmbeddedRecord, database: string) =>
  `postgres://${encodeURIComponent(r.user)}:${encodeURIComponent(r.password)}@${r.host}:${r.port}/${database}`

/** `psql` for the embedded database, its password left in the data folder rather than on the screen. */
export const psqlCommand = (r: EmbeddedRecord, file: string) =>
  `PGPASSWORD=$(node -p 'require(${JSON.stringify(file)}).password') psql -h ${r.host} -p ${r.port} -U ${r.user} ${r.database}`

/**
 * The embedded Postgres of `DATA_DIR`: the one a running `parley start`
 * recorded (for `doctor` and `migrate` next to a running server), or a new one
 * started here, its data in `DATA_DIR/postgres` so it survives restarts,
 * stopped with the scope. A postmaster orphaned by a killed server is stopped
 * before the new start.
 */
const embeddedDatabase = (config: ServerConfig, purpose: "server" | "command") =>
  Effect.gen(function*() {
    const dir = resolve(config.dataDir, "postgres")
    const file = embeddedRecordFile(config.dataDir)
    mkdirSync(config.dataDir, { recursive: true })
    const existing = readRecord(file)
    const owned = existing !== undefined && existing.ownerPid !== process.pid && isAlive(existing.ownerPid) && runningPostmaster(dir) === existing.postgresPid
    if (owned && purpose === "command") {
      yield* Effect.logDebug("using the running server's embedded Postgres").pipe(Effect.annotateLogs({ ownerPid: existing.ownerPid, port: existing.port }))
      return { url: Redacted.make(recordUrl(existing, existing.database)), directUrl: Option.none(), mode: "session", embedded: true } satisfies ResolvedDatabase
    }
    if (owned) {
      return yield* new EmbeddedPostgresError({
        message: `another parley (pid ${existing.ownerPid}) runs the embedded Postgres of ${config.dataDir} on port ${existing.port}; stop it first, or give this one another DATA_DIR`
      })
    }
    const server = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => startEmbeddedPostgres({ dir, persistent: true }),
        catch: (e) => new EmbeddedPostgresError({ message: `could not start the embedded Postgres in ${dir}: ${e instanceof Error ? e.message : String(e)}` })
      }),
      (s) =>
        Effect.promise(async () => {
          if (readRecord(file)?.ownerPid === process.pid) rmSync(file, { force: true })
          await s.stop()
        })
    )
    if (server.stoppedOrphan !== undefined) {
      yield* Effect.logWarning(`stopped an embedded Postgres (pid ${server.stoppedOrphan}) left running by a parley that was killed`).pipe(
        Effect.annotateLogs({ event: "db.embedded_orphan_stopped", dir })
      )
    }
    const record: EmbeddedRecord = {
      ownerPid: process.pid,
      postgresPid: server.pid,
      host: "127.0.0.1",
      port: server.port,
      user: server.user,
      password: server.password,
      database: "parley",
      dir
    }
    writeFileSync(file, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 })
    chmodSync(file, 0o600)
    // A database of our own next to `postgres`, created on first start.
    yield* Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const exists = yield* sql`SELECT 1 FROM pg_database WHERE datname = 'parley'`
      if (exists.length === 0) yield* sql.unsafe("CREATE DATABASE parley")
    }).pipe(
      Effect.provide(PgClient.layer({ url: Redacted.make(server.url), maxConnections: 1 })),
      Effect.mapError((e) => new EmbeddedPostgresError({ message: `creating the parley database: ${sqlErrorDetail(e)}` }))
    )
    if (purpose === "server") {
      yield* Effect.logInfo(`embedded Postgres listening on 127.0.0.1:${server.port} (data in ${dir}); connect with: ${psqlCommand(record, file)}`).pipe(
        Effect.annotateLogs({ event: "db.embedded", dir, port: server.port })
      )
    }
    return { url: Redacted.make(recordUrl(record, "parley")), directUrl: Option.none(), mode: "session", embedded: true } satisfies ResolvedDatabase
  })

/**
 * `DATABASE_URL` when set (with `DATABASE_DIRECT_URL` and the pool mode).
 * Otherwise the embedded Postgres of `DATA_DIR`.
 */
export const resolveDatabase = (config: ServerConfig, purpose: "server" | "command" = "server") =>
  Option.match(config.databaseUrl, {
    onSome: (url) => {
      const detected = Option.isNone(config.poolMode) ? detectPoolMode(url) : undefined
      return Effect.succeed<ResolvedDatabase>({
        url,
        directUrl: config.directUrl,
        mode: Option.getOrElse(config.poolMode, () => detected?.mode ?? "session"),
        embedded: false,
        detected: detected?.detected
      })
    },
    onNone: () => embeddedDatabase(config, purpose)
  })

/**
 * One connection and `SELECT inet_server_port()`: a database that cannot be
 * reached fails here with its host, port, setting and reason, instead of a
 * bare "Failed to connect" from deep inside the pool. The port the server
 * reports tells a pooler in between (PgBouncer, Supavisor) from Postgres
 * itself: theirs differs from the URL's.
 */
export const probeDatabase = (url: Redacted.Redacted<string>, setting: string, mode: PoolMode) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const rows = yield* sql<{ port: number | null }>`SELECT inet_server_port() AS port`
    return { serverPort: rows[0]?.port ?? undefined }
  }).pipe(
    Effect.provide(PgClient.layer({ url, maxConnections: 1, connectTimeout: Duration.seconds(10), ...poolModeOptions(mode) })),
    Effect.mapError((error) => new DatabaseUnreachable({ setting, ...hostAndPort(url), reason: sqlErrorDetail(error) }))
  )

/** Logs what the database route is: pool mode, a pooler seen in between, where LISTEN goes. */
export const reportDatabaseRoute = (db: ResolvedDatabase, pollMillis: number) =>
  Effect.gen(function*() {
    if (db.embedded) return
    const { port } = hostAndPort(db.url)
    const { serverPort } = yield* probeDatabase(db.url, "DATABASE_URL", db.mode)
    if (Option.isSome(db.directUrl)) yield* probeDatabase(db.directUrl.value, "DATABASE_DIRECT_URL", "session")
    const pooled = serverPort !== undefined && String(serverPort) !== port
    yield* Effect.logInfo(`database pool mode: ${db.mode}`).pipe(Effect.annotateLogs({
      event: "db.route",
      poolMode: db.mode,
      ...(db.detected ? { detected: db.detected } : {}),
      pooler: pooled ? `likely (DATABASE_URL port ${port}, server port ${serverPort})` : "not seen",
      listen: Option.isSome(db.directUrl) ? "DATABASE_DIRECT_URL" : db.mode === "session" ? "DATABASE_URL" : "none (polling)"
    }))
    if (pooled && db.mode === "session") {
      yield* Effect.logInfo(`a pooler seems to sit between parley and Postgres (port ${port} → ${serverPort}); if it pools by transaction (Supabase's 6543, PgBouncer pool_mode=transaction), set DATABASE_POOL_MODE=transaction`)
    }
    if (db.mode === "transaction" && Option.isNone(db.directUrl)) {
      yield* Effect.logWarning(
        `DATABASE_POOL_MODE=transaction without DATABASE_DIRECT_URL: no LISTEN (a transaction pooler drops it), idle workers poll every ${pollMillis} ms (WAKE_POLL_INTERVAL_MS); set DATABASE_DIRECT_URL to a direct or session-pooler URL for instant wake-ups`
      ).pipe(Effect.annotateLogs({ event: "db.listen_unavailable" }))
    }
  })

/** The URL for work that needs a whole session: LISTEN, migrations, `doctor`. */
export const sessionUrl = (db: ResolvedDatabase) => Option.getOrElse(db.directUrl, () => db.url)

/**
 * The pool for the application's queries, safe through a transaction pooler in `transaction` mode.
 *
 * Not pipelined (`multiplex`): it cut Postgres's CPU per message from about 2.9 to 2.0 ms in
 * `npm run bench:e2e`, but after a Postgres restart the chaos suite's instances took 27–28 s to
 * settle instead of 3 s (why is not understood yet: left off until it is).
 */
export const pgClientLayer = (db: ResolvedDatabase, poolSize: number) =>
  PgClient.layer({ url: db.url, maxConnections: poolSize, ...poolModeOptions(db.mode) })

/** A small pool on the session URL (direct when given): migrations, `doctor`. */
export const sessionClientLayer = (db: ResolvedDatabase, size = 2) =>
  Option.isSome(db.directUrl) ? PgClient.layer({ url: db.directUrl.value, maxConnections: size }) : pgClientLayer(db, size)

/** Where wake-ups come from: LISTEN on the direct URL, on the pool in session mode, or a fast poll. */
export const listenerLayer = (db: ResolvedDatabase, options: ListenerOptions) =>
  Option.isSome(db.directUrl)
    ? PgListenerLayer(options).pipe(Layer.provide(PgClient.layer({ url: db.directUrl.value, maxConnections: 2 })))
    : db.mode === "session"
    ? PgListenerLayer(options)
    : PollingListenerLayer("no LISTEN: DATABASE_POOL_MODE=transaction without DATABASE_DIRECT_URL", options)

/** Migrations applied at start — or a clear refusal when the database is ahead of this code. */
export const migrateOnStart = (embedded: boolean) =>
  Effect.gen(function*() {
    const migrator = yield* makeMigrator()
    const applied = yield* migrator.up()
    if (applied.length > 0) yield* Effect.logInfo("migrations applied").pipe(Effect.annotateLogs({ event: "db.migrated", versions: applied.join(",") }))
    if (embedded) yield* seedDemo()
  })
