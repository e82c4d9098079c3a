import { isAlive } from "@parley/adapters-pg"
import { Duration, Effect, Schedule } from "effect"
import { readFileSync } from "node:fs"

/** The parent of `pid`, from /proc (Linux); undefined elsewhere. */
const parentOf = (pid: number): number | undefined => {
  try {
    // The command name is in parentheses and may hold spaces: the fields after the last ")" are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
  } catch {
    return undefined
  }
}

const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")
  } catch {
    return ""
  }
}

/** The `npm` process this one runs under (`npm start` → sh → node), when npm started it. */
const npmAncestor = (): number | undefined => {
  if (process.env["npm_lifecycle_event"] === undefined) return undefined
  let pid: number | undefined = process.ppid
  for (let depth = 0; pid !== undefined && pid > 1 && depth < 4; depth++) {
    if (/(^|\/)npm(\.js|-cli\.js)?( |$)|npm-cli/.test(commandOf(pid))) return pid
    pid = parentOf(pid)
  }
  return undefined
}

/**
 * Ends `self` (gracefully: it loses the race and is interrupted, so its scope
 * closes and the embedded Postgres stops) when the process that started it goes away. A
 * SIGTERM to `npm start` ends npm and its `sh`, not node: the server used to
 * run on, orphaned with its Postgres. The parent changing (re-parented to
 * init) or the npm above us exiting (SIGKILL) now stops it too.
 */
export const exitWithParent = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const parent = process.ppid
    const npm = npmAncestor()
    if (parent <= 1 && npm === undefined) return self
    const gone = Effect.sync(() => process.ppid !== parent || (npm !== undefined && !isAlive(npm))).pipe(
      Effect.repeat({ schedule: Schedule.spaced(Duration.millis(500)), until: (g) => g }),
      Effect.andThen(Effect.logWarning("the process that started parley exited; shutting down").pipe(Effect.annotateLogs({ event: "server.parent_exited", parent, ...(npm ? { npm } : {}) }))),
    )
    return Effect.raceFirst(self, gone)
  })
