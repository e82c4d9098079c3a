import { PgClient } from "@effect/sql-pg"
import { Config, Schema } from "effect"

/** The connection string: `DATABASE_URL`, kept `Redacted` so it never reaches a log line. */
export const databaseUrlConfig = Config.Redacted("DATABASE_URL")

/**
 * A direct (or session-pooled) connection string next to a transaction
 * pooler's `DATABASE_URL`: LISTEN, migrations and `doctor` use it, because
 * they need a connection that outlives one transaction.
 */
export const directUrlConfig = Config.option(Config.Redacted("DATABASE_DIRECT_URL"))

/** An integer ≥ 1 read from a string: `0`, `-3` or `1.5` stop the process with a message naming the variable. */
export const PositiveInt = Schema.NumberFromString.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThan(0)))

export const positiveIntConfig = (name: string, fallback: number) => Config.schema(PositiveInt, name).pipe(Config.withDefault(fallback))

export const poolSizeConfig = positiveIntConfig("DATABASE_POOL_SIZE", 10)

/**
 * `session`: every pooled connection is a Postgres session of its own (direct,
 * or a session-mode pooler). `transaction`: a transaction-mode pooler
 * (PgBouncer, Supavisor on 6543) may hand each transaction to another backend,
 * so nothing may rely on session state: no named prepared statements, no LISTEN,
 * no session advisory locks, no `SET`.
 */
export type PoolMode = "session" | "transaction"

export const poolModeConfig = Config.Literals(["session", "transaction"], "DATABASE_POOL_MODE").pipe(Config.withDefault("session" as const))

/**
 * The client options a pool mode needs. Through a transaction pooler a named
 * statement prepared on one backend is unknown to the next one (`prepared
 * statement "…" does not exist`), so every query goes through the unnamed
 * statement.
 */
export const poolModeOptions = (mode: PoolMode) => (mode === "transaction" ? { prepare: false } : {})

/** A `PgClient` (and `SqlClient`) pool from `DATABASE_URL`, `DATABASE_POOL_SIZE` and `DATABASE_POOL_MODE`. */
export const PgClientFromEnv = PgClient.layerConfig({
  url: databaseUrlConfig,
  maxConnections: poolSizeConfig,
  prepare: Config.map(poolModeConfig, (mode) => mode !== "transaction")
})
