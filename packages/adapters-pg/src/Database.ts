import { PgClient } from "@effect/sql-pg"
import { Config } from "effect"

/** The connection string: `DATABASE_URL`, kept `Redacted` so it never reaches a log line. */
export const databaseUrlConfig = Config.Redacted("DATABASE_URL")

export const poolSizeConfig = Config.Int("DATABASE_POOL_SIZE").pipe(Config.withDefault(10))

/** A `PgClient` (and `SqlClient`) pool from `DATABASE_URL` and `DATABASE_POOL_SIZE`. */
export const PgClientFromEnv = PgClient.layerConfig({
  url: databaseUrlConfig,
  maxConnections: poolSizeConfig
})
