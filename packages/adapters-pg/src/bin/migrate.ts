#!/usr/bin/env node
// npm run migrate -- up [version] | down <version> | status
// Against DATABASE_URL. The server's CLI (`parley migrate …`) does the same.
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { PgClientFromEnv } from "../Database.ts"
import { makeMigrator } from "../Migrations.ts"

const [command = "status", arg] = process.argv.slice(2)

const program = Effect.gen(function*() {
  const migrator = yield* makeMigrator()
  switch (command) {
    case "up": {
      const ran = yield* migrator.up(arg === undefined ? undefined : Number(arg))
      yield* Console.log(ran.length === 0 ? "up to date" : `applied ${ran.join(", ")}`)
      break
    }
    case "down": {
      if (arg === undefined || Number.isNaN(Number(arg))) return yield* Effect.fail(new Error("usage: migrate down <version> (0 rolls back everything)"))
      const ran = yield* migrator.down(Number(arg))
      yield* Console.log(ran.length === 0 ? "nothing to roll back" : `rolled back ${ran.join(", ")}`)
      break
    }
    case "status": {
      for (const s of yield* migrator.status) {
        yield* Console.log(`${String(s.version).padStart(4, "0")} ${s.name.padEnd(32)} ${s.appliedAt ? `applied ${s.appliedAt.toISOString()}` : "pending"}`)
      }
      break
    }
    default:
      return yield* Effect.fail(new Error(`unknown command ${command}: use up [version], down <version> or status`))
  }
})

program.pipe(Effect.provide(PgClientFromEnv), NodeRuntime.runMain)
