import { freePort } from "@parley/adapters-pg/embedded"
import { spawn, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"

const cli = fileURLToPath(new URL("../../src/cli.ts", import.meta.url))

export interface RunningServer {
  readonly url: string
  readonly process: ChildProcess
  readonly output: () => string
  /** SIGTERM, then the exit code (graceful shutdown must exit 0). */
  readonly stop: () => Promise<number | null>
}

/** Starts `parley start` as a real child process on a free port and waits until `/readyz` says ready. */
export const startServer = async (env: Record<string, string>): Promise<RunningServer> => {
  const port = await freePort()
  let output = ""
  const child = spawn(process.execPath, [cli, "start"], {
    env: { ...process.env, PORT: String(port), LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  while (true) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`)
    try {
      const r = await fetch(`${url}/readyz`)
      if (r.status === 200) break
    } catch {}
    if (Date.now() > deadline) throw new Error(`server not ready in 60 s:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    process: child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode)
        child.once("exit", (code) => resolve(code))
        child.kill("SIGTERM")
      })
  }
}

/** Polls until `check` returns a value (or times out with the message). */
export const eventually = async <A>(check: () => A | undefined | Promise<A | undefined>, what: string, timeoutMs = 20_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await check()
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}
