#!/usr/bin/env node
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { makeMigrator, seedDemo, sessionHealth } from "@parley/adapters-pg"
import { Cause, Console, Effect, Exit, Layer, Option, Runtime } from "effect"
import { Argument, Command } from "effect/cli"
import { pgClientLayer, resolveDatabase } from "./Database.ts"
import { loggerLayer, ServerLayer } from "./Server.ts"
import { serverConfig } from "./ServerConfig.ts"

/** The database the command works on: DATABASE_URL, or the embedded one `start` uses. */
const withDatabase = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const config = yield* serverConfig
    const db = yield* resolveDatabase(config)
    return yield* effect.pipe(Effect.provide(pgClientLayer(db, 2)))
  }).pipe(Effect.scoped)

const start = Command.make("start", {}, () =>
  Effect.gen(function*() {
    const config = yield* serverConfig
    return yield* Layer.launch(ServerLayer(config)).pipe(Effect.provide(loggerLayer(config)))
  })).pipe(Command.withDescription("Run the server: webhooks, workers, outbox, and the simulator in dev mode"))

const up = Command.make("up", { version: Argument.Int("version").pipe(Argument.optional) }, ({ version }) =>
  withDatabase(Effect.gen(function*() {
    const ran = yield* (yield* makeMigrator()).up(Option.getOrUndefined(version))
    yield* Console.log(ran.length === 0 ? "up to date" : `applied ${ran.join(", ")}`)
  })))

const down = Command.make("down", { version: Argument.Int("version") }, ({ version }) =>
  withDatabase(Effect.gen(function*() {
    const ran = yield* (yield* makeMigrator()).down(version)
    yield* Console.log(ran.length === 0 ? "nothing to roll back" : `rolled back ${ran.join(", ")}`)
  }))).pipe(Command.withDescription("Roll back to <version> (0: everything)"))

const status = Command.make("status", {}, () =>
  withDatabase(Effect.gen(function*() {
    for (const s of yield* (yield* makeMigrator()).status) {
      yield* Console.log(`${String(s.version).padStart(4, "0")} ${s.name.padEnd(28)} ${s.appliedAt ? `applied ${s.appliedAt.toISOString()}` : "pending"}`)
    }
  })))

const migrate = Command.make("migrate").pipe(
  Command.withDescription("Apply, roll back or list the SQL migrations"),
  Command.withSubcommands([up, down, status])
)

/** The seed's deployment checks. Exits non-zero when one fails. */
const doctor = Command.make("doctor", {}, () =>
  withDatabase(Effect.gen(function*() {
    const health = yield* sessionHealth
    const index = yield* health.uniqueIndexPresent
    const duplicates = yield* health.duplicateActiveSessions
    const perHour = yield* health.sessionsPerHour
    const recent = yield* health.recentSessions(10)
    yield* Console.log(`${index ? "✓" : "✗"} unique index idx_unique_active_session_per_user present`)
    yield* Console.log(`${duplicates.length === 0 ? "✓" : "✗"} users with more than one active session: ${duplicates.length}`)
    yield* Console.log("sessions created per hour (last 24 h):")
    for (const h of perHour) yield* Console.log(`  ${h.hour.toISOString()}  ${h.sessions_created}`)
    yield* Console.log("recent sessions:")
    for (const s of recent) yield* Console.log(`  ${s.id}  ${s.status.padEnd(9)}  ${String(s.message_count).padStart(4)} messages  ${s.created_at.toISOString()}`)
    if (!index || duplicates.length > 0) return yield* Effect.fail(new Error("doctor: a check failed"))
  })))

const seed = Command.make("seed-demo", {}, () =>
  withDatabase(Effect.gen(function*() {
    yield* seedDemo()
    yield* Console.log("demo data seeded (Karim +33612345678, Sarah +447700900123, Lucie +33698765432; Champigny, Ivry-sur-Seine, Montreuil)")
  })))

const parley = Command.make("parley").pipe(
  Command.withDescription("parley: WhatsApp assistants whose conversations never split"),
  Command.withSubcommands([start, migrate, doctor, seed])
)

// SIGTERM and SIGINT interrupt the main fiber: for `start` that is the requested,
// graceful shutdown (the scope has closed by now), so it exits 0 like a finished command.
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

parley.pipe(
  Command.run({ version: "0.1.0" }),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ teardown })
)

export type { PgClient }
