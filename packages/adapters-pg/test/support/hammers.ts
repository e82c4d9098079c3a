// Runs several hammer processes (support/hammer.ts) in lock-step rounds: the
// parent waits until every process is ready for round r, releases them all at
// once, collects their results, runs `afterRound`, and goes on.
import { spawn, type ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

export interface HammerRound {
  readonly round: number
  readonly results: ReadonlyArray<readonly [user: string, session: string, outcome: string]>
  readonly errors: ReadonlyArray<string>
}

export interface HammerOptions {
  readonly url: string
  readonly users: ReadonlyArray<string>
  readonly processes: number
  readonly callsPerRound: number
  readonly rounds: number
  /** `now` of round 0 (epoch ms); round r uses start + r × step. */
  readonly start: number
  readonly step: number
  /** Called once every process has reported round r, before round r + 1 is released. */
  readonly afterRound?: (round: number, results: ReadonlyArray<HammerRound>) => Promise<void>
  readonly timeoutMs?: number
}

const script = fileURLToPath(new URL("./hammer.ts", import.meta.url))

const child = (options: HammerOptions) => {
  const proc: ChildProcess = spawn(process.execPath, [
    script,
    options.url,
    options.users.join(","),
    String(options.callsPerRound),
    String(options.rounds),
    String(options.start),
    String(options.step)
  ], { stdio: ["pipe", "pipe", "pipe"] })
  let stderr = ""
  proc.stderr!.on("data", (d) => (stderr += String(d)))
  const pending: Array<unknown> = []
  const waiting: Array<{ resolve: (line: unknown) => void; reject: (e: Error) => void }> = []
  let ended: Error | undefined
  const exited = new Promise<void>((resolve) => proc.on("exit", () => resolve()))
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      return // not ours (a stray log line)
    }
    const waiter = waiting.shift()
    if (waiter !== undefined) waiter.resolve(parsed)
    else pending.push(parsed)
  })
  proc.on("exit", (code) => {
    ended = new Error(`hammer process exited (${code}) before answering: ${stderr}`)
    for (const waiter of waiting.splice(0)) waiter.reject(ended)
  })
  return {
    next: (): Promise<any> => {
      if (pending.length > 0) return Promise.resolve(pending.shift())
      if (ended !== undefined) return Promise.reject(ended)
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }))
    },
    go: () => proc.stdin!.write("go\n"),
    kill: () => proc.kill("SIGKILL"),
    exited
  }
}

/** Results indexed [process][round]. Rejects if a process fails, prints a fatal error, or the run exceeds the timeout. */
export const runHammers = async (options: HammerOptions): Promise<Array<Array<HammerRound>>> => {
  const children = Array.from({ length: options.processes }, () => child(options))
  const timer = setTimeout(() => children.forEach((c) => c.kill()), options.timeoutMs ?? 90_000)
  try {
    const out: Array<Array<HammerRound>> = children.map(() => [])
    for (let r = 0; r < options.rounds; r++) {
      const ready = await Promise.all(children.map((c) => c.next()))
      for (const line of ready) {
        if (line?.ready !== r) throw new Error(`expected ready ${r}, got ${JSON.stringify(line)}`)
      }
      // The barrier: every process has its pool open and is waiting; release them together.
      for (const c of children) c.go()
      const results: Array<HammerRound> = await Promise.all(children.map((c) => c.next()))
      results.forEach((result, i) => {
        if (result?.round !== r) throw new Error(`expected round ${r}, got ${JSON.stringify(result)}`)
        out[i]!.push(result)
      })
      await options.afterRound?.(r, results)
    }
    await Promise.all(children.map((c) => c.exited))
    return out
  } catch (e) {
    children.forEach((c) => c.kill())
    throw e
  } finally {
    clearTimeout(timer)
  }
}
