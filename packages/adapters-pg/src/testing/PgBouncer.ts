import { spawn, spawnSync } from "node:child_process"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createConnection } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "../EmbeddedPostgres.ts"

export interface RunningPgBouncer {
  /** `postgres://…@127.0.0.1:<pgbouncer port>/<database>` for a database of the upstream server. */
  readonly urlFor: (database: string) => string
  readonly port: number
  readonly mode: "session" | "transaction"
  /** PgBouncer's own log, for the failure messages of a test. */
  readonly log: () => string
  readonly stop: () => Promise<void>
}

const binary = () => {
  for (const candidate of ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]) {
    if (spawnSync(candidate, ["--version"]).status === 0) return candidate
  }
  const found = spawnSync("sh", ["-c", "command -v pgbouncer"], { encoding: "utf8" }).stdout.trim()
  if (found !== "") return found
  throw new Error("pgbouncer is not installed: apt-get install -y pgbouncer (.ci/run does it)")
}

const accepting = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.end()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

/**
 * A real PgBouncer (Debian's package) on a free loopback port in front of
 * `upstreamUrl`'s server, in `pool_mode = transaction` (Supabase's 6543) or
 * `session`. Clients log in with any password (`auth_type = any`); PgBouncer
 * logs in to Postgres with the upstream URL's credentials. As root it runs as
 * `postgres` (it refuses root).
 */
export const startPgBouncer = async (upstreamUrl: string, mode: "session" | "transaction", poolSize = 20): Promise<RunningPgBouncer> => {
  const upstream = new URL(upstreamUrl)
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "parley-pgbouncer-"))
  chmodSync(dir, 0o777)
  const ini = join(dir, "pgbouncer.ini")
  const logfile = join(dir, "pgbouncer.log")
  writeFileSync(ini, [
    "[databases]",
    `* = host=${upstream.hostname} port=${upstream.port || 5432} user=${decodeURIComponent(upstream.username)} password=${decodeURIComponent(upstream.password)}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = any",
    `pool_mode = ${mode}`,
    "max_client_conn = 1000",
    `default_pool_size = ${poolSize}`,
    "ignore_startup_parameters = extra_float_digits,options",
    `logfile = ${logfile}`,
    `pidfile = ${join(dir, "pgbouncer.pid")}`,
    ""
  ].join("\n"))
  chmodSync(ini, 0o644)
  const asRoot = process.getuid?.() === 0
  const child = spawn(binary(), [...(asRoot ? ["-u", "postgres"] : []), ini], { stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const log = () => {
    try {
      return readFileSync(logfile, "utf8")
    } catch {
      return output
    }
  }
  const deadline = Date.now() + 10_000
  while (!(await accepting(port))) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}): ${output}${log()}`)
    if (Date.now() > deadline) throw new Error(`pgbouncer not listening on ${port} within 10 s: ${log()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  return {
    port,
    mode,
    urlFor: (database) => `postgres://${upstream.username}:${upstream.password}@127.0.0.1:${port}/${database}`,
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGINT: "safe shutdown", after the current transactions; the clients are closed by then.
        child.kill("SIGINT")
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
