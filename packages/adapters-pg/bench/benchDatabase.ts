import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startEmbeddedPostgres } from "../src/EmbeddedPostgres.ts"

/**
 * Runs `body` with the URL of a scratch database of its own on `DATABASE_URL`'s
 * server (else on an embedded Postgres started for the run), dropped afterwards.
 */
export const withBenchDatabase = async <A>(prefix: string, body: (url: string) => Promise<A>): Promise<A> => {
  let url = process.env["DATABASE_URL"]
  let cleanup = async () => {}
  if (url === undefined || url === "") {
    const dir = mkdtempSync(join(tmpdir(), "parley-bench-"))
    const server = await startEmbeddedPostgres({ dir, persistent: false })
    url = server.url
    cleanup = async () => {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const admin = PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })
  const onAdmin = (statement: string) =>
    Effect.runPromise(Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      yield* sql.unsafe(statement)
    }).pipe(Effect.provide(admin)))
  const name = `${prefix}_${Date.now()}`
  await onAdmin(`CREATE DATABASE ${name}`)
  const u = new URL(url)
  u.pathname = `/${name}`
  try {
    return await body(u.toString())
  } finally {
    await onAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await cleanup()
  }
}
