import { freePort, isAlive } from "@parley/adapters-pg"
import { createScratchDatabase } from "@parley/adapters-pg/testing"
import { execFile, spawn } from "node:child_process"
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { eventually, startServer } from "./support/ServerProcess.ts"

// Issue 12 (4): operating parley as a new user would, each case a real process.
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url))
const root = fileURLToPath(new URL("../../../", import.meta.url))

let db: Awaited<ReturnType<typeof createScratchDatabase>>
const dataDirs: Array<string> = []
const newDataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-ops-"))
  // As root, Postgres runs as the `postgres` user, which must reach the data folder (mkdtemp makes it 0700).
  chmodSync(dir, 0o755)
  dataDirs.push(dir)
  return dir
}

/** `parley <args>` as a user runs it; `DATABASE_URL` unset unless given. */
const parley = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const { DATABASE_URL: _, ...rest } = process.env
    const child = execFile(process.execPath, [cli, ...args], { env: { ...rest, ...env } as NodeJS.ProcessEnv, timeout: 60_000 }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }))
  })

interface Record_ {
  readonly ownerPid: number
  readonly postgresPid: number
  readonly port: number
}
const record = (dataDir: string): Record_ => JSON.parse(readFileSync(join(dataDir, "embedded-postgres.json"), "utf8"))
const gone = (pid: number) => eventually(() => (isAlive(pid) ? undefined : true), `pid ${pid} to exit`, 30_000)

beforeAll(async () => {
  db = await createScratchDatabase()
})
afterAll(async () => {
  await db?.drop()
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
})

describe("bad settings: one line naming the setting, and a non-zero exit", () => {
  it.each([
    { env: { DATABASE_POOL_SIZE: "0" }, line: /^parley: invalid DATABASE_POOL_SIZE: Expected a value greater than 0$/ },
    { env: { WORKER_COUNT: "-3" }, line: /^parley: invalid WORKER_COUNT: Expected a value greater than 0$/ },
    { env: { PORT: "" }, line: /^parley: PORT is set but empty: give it a value or unset it$/ },
    { env: { DATABASE_POOL_MODE: "statement" }, line: /^parley: invalid DATABASE_POOL_MODE: / }
  ])("$env", async ({ env, line }) => {
    const result = await parley(["start"], { DATABASE_URL: db.url, ...env })
    assert.strictEqual(result.code, 1)
    const lines = result.stderr.trim().split("\n")
    assert.strictEqual(lines.length, 1, result.stderr)
    assert.match(lines[0]!, line)
    assert.notMatch(result.stdout, /listening/)
  })

  it("an unreachable database names its host, port, setting and reason", async () => {
    const result = await parley(["start"], { DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" })
    assert.strictEqual(result.code, 1)
    assert.match(result.stderr, /^parley: cannot reach the database at 127\.0\.0\.1:1 \(DATABASE_URL\): .*ECONNREFUSED/m)
    const missing = await parley(["migrate", "status"], { DATABASE_URL: db.url.replace(/\/[^/]+$/, "/no_such_database") })
    assert.strictEqual(missing.code, 1)
    assert.match(missing.stderr, /^parley: cannot reach the database at 127\.0\.0\.1:\d+ \(DATABASE_URL\): .*"no_such_database" does not exist/m)
  })

  it("migrate and doctor use DATABASE_DIRECT_URL when given (here DATABASE_URL would not even answer)", async () => {
    const env = { DATABASE_URL: "postgres://postgres@127.0.0.1:1/pooled", DATABASE_DIRECT_URL: db.url, DATABASE_POOL_MODE: "transaction" }
    const up = await parley(["migrate", "up"], env)
    assert.strictEqual(up.code, 0, up.stderr)
    assert.match(up.stdout, /applied 1, 2, 3|up to date/)
    const status = await parley(["migrate", "status"], env)
    assert.notMatch(status.stdout, /pending$/m)
    assert.match(status.stdout, /^0006 incident_photos\s+applied /m)
    const doctor = await parley(["doctor"], env)
    assert.strictEqual(doctor.code, 0, doctor.stderr)
  })

  it("a port in use: one clear line, a non-zero exit, and never \"listening\" first", async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const result = await parley(["start"], { DATABASE_URL: db.url, PORT: String(port), LOG_FORMAT: "json" })
      assert.strictEqual(result.code, 1)
      assert.match(result.stderr, new RegExp(`^parley: cannot listen on 127\\.0\\.0\\.1:${port} \\(PORT, HOST\\): the port is already in use`, "m"))
      assert.notInclude(result.stdout, "server.started")
      assert.notMatch(result.stderr, /^parley: $/m)
    } finally {
      blocker.close()
    }
  })
})

describe("the embedded Postgres of `npm start`", () => {
  it("prints where it listens and a psql command; the CLI reaches it while the server runs; Ctrl-C stops both, with no LISTEN warning", async () => {
    const dataDir = newDataDir()
    const server = await startServer({ DATABASE_URL: "", DATA_DIR: dataDir })
    const { port, postgresPid } = record(dataDir)
    assert.include(server.output(), `embedded Postgres listening on 127.0.0.1:${port}`)
    assert.include(server.output(), `psql -h 127.0.0.1 -p ${port} -U postgres parley`)
    assert.notInclude(server.output(), `"password"`)

    const status = await parley(["migrate", "status"], { DATA_DIR: dataDir })
    assert.strictEqual(status.code, 0, status.stderr)
    assert.match(status.stdout, /^0001 worksite_and_sessions\s+applied /m)
    const doctor = await parley(["doctor"], { DATA_DIR: dataDir })
    assert.strictEqual(doctor.code, 0, doctor.stderr)
    assert.match(doctor.stdout, /✓ migrations: all applied/)

    const exit = new Promise<number | null>((resolve) => server.process.once("exit", (code) => resolve(code)))
    server.process.kill("SIGINT")
    assert.strictEqual(await exit, 0)
    await gone(postgresPid)
    assert.notInclude(server.output(), "LISTEN lost")
    assert.include(server.output(), `"event":"server.stopped"`)
  })

  it("after a SIGKILL, the next start stops the orphaned Postgres by itself", async () => {
    const dataDir = newDataDir()
    const first = await startServer({ DATABASE_URL: "", DATA_DIR: dataDir })
    const orphan = record(dataDir).postgresPid
    first.process.kill("SIGKILL")
    await gone(first.process.pid!)
    assert.isTrue(isAlive(orphan), "the killed server's Postgres is left running")

    const second = await startServer({ DATABASE_URL: "", DATA_DIR: dataDir })
    assert.include(second.output(), `stopped an embedded Postgres (pid ${orphan})`)
    await gone(orphan)
    assert.notStrictEqual(record(dataDir).postgresPid, orphan)
    assert.strictEqual(await second.stop(), 0)
  })

  it("SIGTERM to `npm start` stops the server and its Postgres, not just npm", async () => {
    const dataDir = newDataDir()
    const { DATABASE_URL: _, ...env } = process.env
    const npm = spawn("npm", ["start"], { cwd: root, env: { ...env, DATA_DIR: dataDir, PORT: String(await freePort()), LOG_FORMAT: "json" }, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    npm.stdout!.on("data", (d) => (output += d))
    npm.stderr!.on("data", (d) => (output += d))
    await eventually(() => (output.includes(`"event":"server.started"`) ? true : npm.exitCode !== null ? assert.fail(output) : undefined), "npm start to be listening", 60_000)
    const { ownerPid, postgresPid } = record(dataDir)
    npm.kill("SIGTERM")
    await gone(ownerPid)
    await gone(postgresPid)
    assert.include(output, `"event":"server.parent_exited"`)
  })
})
