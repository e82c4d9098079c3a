import { loadMigrations } from "@parley/adapters-pg"
import { createScratchDatabase } from "@parley/adapters-pg/testing"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url))

let db: Awaited<ReturnType<typeof createScratchDatabase>>

/** `parley <args>` as a user runs it, against the scratch database. */
const parley = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [cli, ...args], { env: { ...process.env, DATABASE_URL: db.url, ...env } }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }))
  })

const sql = (text: string) =>
  Effect.runPromise(Effect.gen(function*() {
    const client = yield* PgClient.PgClient
    yield* client.unsafe(text)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(db.url), maxConnections: 1 }))))

beforeAll(async () => {
  db = await createScratchDatabase()
})
afterAll(async () => {
  await db?.drop()
})

describe("the parley CLI", () => {
  it("migrate status / up / down, and doctor's checks with their exit codes", async () => {
    const fresh = await parley(["migrate", "status"])
    assert.strictEqual(fresh.code, 0)
    assert.match(fresh.stdout, /^0001 worksite_and_sessions\s+pending$/m)

    const early = await parley(["doctor"])
    assert.strictEqual(early.code, 1, "doctor fails on an unmigrated database")
    const versions = loadMigrations().map((m) => m.version)
    const above2 = versions.filter((v) => v > 2)
    assert.include(early.stdout, `✗ migrations: ${versions.length} pending`)
    assert.match(early.stderr, /^parley: doctor: 1 check\(s\) failed/m)
    assert.notMatch(early.stderr, /\n\s+at /, "one line, no stack trace")

    assert.include((await parley(["migrate", "up"])).stdout, `applied ${versions.join(", ")}`)
    assert.include((await parley(["migrate", "down", "2"])).stdout, `rolled back ${[...above2].reverse().join(", ")}`)
    assert.match((await parley(["migrate", "status"])).stdout, /^0003 get_or_create_session\s+pending$/m)
    assert.include((await parley(["migrate", "up"])).stdout, `applied ${above2.join(", ")}`)
    assert.match((await parley(["seed-demo"])).stdout, /demo data seeded/)

    const healthy = await parley(["doctor"])
    assert.strictEqual(healthy.code, 0, healthy.stderr)
    assert.match(healthy.stdout, /✓ unique index idx_unique_active_session_per_user present/)
    assert.match(healthy.stdout, /✓ users with more than one active session: 0/)

    await sql("DROP INDEX idx_unique_active_session_per_user")
    const broken = await parley(["doctor"])
    assert.strictEqual(broken.code, 1, "doctor exits non-zero when the index is gone")
    assert.match(broken.stdout, /✗ unique index idx_unique_active_session_per_user present/)
  })

  it("invalid configuration stops the server at once, naming the variable", async () => {
    const result = await parley(["start"], { PORT: "not-a-port" })
    assert.strictEqual(result.code, 1)
    assert.match(result.stderr, /^parley: invalid PORT: Expected /m)
  })

  it("a RETENTION within the providers' redelivery window is refused: a late redelivery would be taken as new", async () => {
    const result = await parley(["start"], { RETENTION: "3 days" })
    assert.strictEqual(result.code, 1)
    assert.match(result.stderr, /^parley: [^\n]*RETENTION must be longer than the providers' redelivery window/m)
  })

  it("half a provider's credentials is an error, never a silent fall back to dev mode", async () => {
    const result = await parley(["start"], { META_APP_SECRET: "secret", META_ACCESS_TOKEN: "token" })
    assert.strictEqual(result.code, 1)
    assert.match(result.stderr, /^parley: invalid META_VERIFY_TOKEN: /m)
    assert.notMatch(result.stdout + result.stderr, /dev mode/)
  })

  it("an unreachable database is one clear line and a non-zero exit", async () => {
    const result = await parley(["migrate", "status"], { DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" })
    assert.strictEqual(result.code, 1)
    assert.match(result.stderr, /^parley: cannot reach the database at 127\.0\.0\.1:1 \(DATABASE_URL\): PgConnection: Failed to connect: connect ECONNREFUSED/m)
    assert.strictEqual(result.stderr.trim().split("\n").length, 1, result.stderr)
  })
})
