import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import { startEmbeddedPostgres } from "../EmbeddedPostgres.ts"

declare module "vitest" {
  export interface ProvidedContext {
    parleyDatabaseUrl: string
  }
}

/**
 * One Postgres for the whole run: `DATABASE_URL` when set (CI and developer
 * machines), otherwise a throwaway embedded server, stopped afterwards. Each
 * test file then creates its own scratch database on it.
 */
export default async function setup(project: TestProject) {
  const fromEnv = process.env["DATABASE_URL"]
  if (fromEnv !== undefined && fromEnv !== "") {
    project.provide("parleyDatabaseUrl", fromEnv)
    return
  }
  const dir = mkdtempSync(join(tmpdir(), "parley-pg-"))
  const server = await startEmbeddedPostgres({ dir, persistent: false })
  project.provide("parleyDatabaseUrl", server.url)
  return async () => {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
