/**
 * @parley/adapters-pg: the engine's stores on Postgres (≥ 15, Supabase
 * included) through `@effect/sql-pg`. `PgEngine` bundles them; the SQL
 * migrations ship with the package (`makeMigrator`). An embedded Postgres for
 * development is at `@parley/adapters-pg/embedded`.
 */
export { PgEngine, type PgEngineServices } from "./PgEngine.ts"
export { getOrCreateSessionWithRecentSql, makePgSessionStore, PgSessionStore } from "./PgSessionStore.ts"
export { makePgMessageStore, PgMessageStore } from "./PgMessageStore.ts"
export { makePgMessaging, PgMessaging } from "./PgMessaging.ts"
export { makePgRetention, PgRetention } from "./PgRetention.ts"
export { makePgDirectory, type NewUser, PgDirectory, registerUser } from "./PgDirectory.ts"
export {
  databaseUrlConfig,
  directUrlConfig,
  PgClientFromEnv,
  type PoolMode,
  poolModeConfig,
  poolModeOptions,
  poolSizeConfig,
  type PositiveInt,
  positiveIntConfig
} from "./Database.ts"
export {
  defaultListenerOptions,
  listenConnected,
  type ListenerOptions,
  makePgListener,
  makePollingListener,
  PgListener,
  PgListenerLayer,
  PollingListenerLayer,
  type WakeupStatus
} from "./PgListener.ts"
export { defaultMigrationsDir, loadMigrations, makeMigrator, type Migration, MigrationError, type MigrationStatus, type Migrator } from "./Migrations.ts"
export { sessionHealth } from "./SessionHealth.ts"
export { fromSqlError, orUnavailable, sqlErrorDetail, uniqueViolations } from "./mapSqlError.ts"
export { splitStatements } from "./splitStatements.ts"
export { type ClaimedInboxRow, type ClaimedOutboxRow, inboxChannel, messagingSql, outboxChannel } from "./MessagingSql.ts"
