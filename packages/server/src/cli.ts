#!/usr/bin/env node
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import type { PgClient } from "@effect/sql-pg"
import { makeMigrator, seedDemo, sessionHealth } from "@parley/adapters-pg"
import { Cause, Console, Duration, Effect, Exit, Option, Redacted, Runtime, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { probeDatabase, resolveDatabase, sessionClientLayer, sessionUrl } from "./Database.ts"
import { exitWithParent } from "./exitWithParent.ts"
import { watchDeployment } from "./hammer/DeployWatch.ts"
import { HammerMode, runHammer } from "./hammer/Hammer.ts"
import { parseDuration } from "./hammer/parseDuration.ts"
import { launchServer, loggerLayer } from "./Server.ts"
import { loadServerConfig } from "./ServerConfig.ts"

/**
 * The database the command works on: DATABASE_DIRECT_URL when given (a
 * transaction pooler's DATABASE_URL cannot hold a migration's session), else
 * DATABASE_URL, else the embedded one — the running server's when `start` runs.
 * A command that opens connections of its own (the hammer) gets that URL.
 */
const withDatabase = <A, E, R>(effect: Effect.Effect<A, E, R> | ((url: Redacted.Redacted<string>) => Effect.Effect<A, E, R>)) =>
  Effect.gen(function*() {
    const config = yield* loadServerConfig
    const db = yield* resolveDatabase(config, "command")
    const url = sessionUrl(db)
    yield* probeDatabase(url, Option.isSome(db.directUrl) ? "DATABASE_DIRECT_URL" : db.embedded ? "embedded Postgres" : "DATABASE_URL", "session")
    return yield* (typeof effect === "function" ? effect(url) : effect).pipe(Effect.provide(sessionClientLayer(db)))
  }).pipe(Effect.scoped)

/** A duration flag's value, or the command fails naming the flag. */
const durationOf = (flag: string, value: string) => {
  const parsed = parseDuration(flag, value)
  return Duration.isDuration(parsed) ? Effect.succeed(parsed) : Effect.fail(parsed)
}

const start = Command.make("start", {}, () =>
  Effect.gen(function*() {
    const config = yield* loadServerConfig
    return yield* launchServer(config).pipe(exitWithParent, Effect.provide(loggerLayer(config)))
  })).pipe(Command.withDescription("Run the server: webhooks, workers, outbox, and the simulator in dev mode"))

const up = Command.make("up", { version: Argument.Int("version").pipe(Argument.optional) }, ({ version }) =>
  withDatabase(Effect.gen(function*() {
    const ran = yield* (yield* makeMigrator()).up(Option.getOrUndefined(version))
    yield* Console.log(ran.length === 0 ? "up to date" : `applied ${ran.join(", ")}`)
  }))).pipe(Command.withDescription("Apply pending migrations, up to [version] (default: all)"))

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
  }))).pipe(Command.withDescription("List the migrations and when each was applied"))

const migrate = Command.make("migrate").pipe(
  Command.withDescription("Apply, roll back or list the SQL migrations"),
  Command.withSubcommands([up, down, status])
)

/** A `doctor` check failed: the process exits non-zero. */
class DoctorCheckFailed extends Schema.TaggedError<DoctorCheckFailed>()("DoctorCheckFailed", {
  failed: Schema.Array(Schema.String)
}) {
  override get message() {
    return `doctor: ${this.failed.length} check(s) failed: ${this.failed.join("; ")}`
  }
}

const check = (ok: boolean, label: string) => Console.log(`${ok ? "✓" : "✗"} ${label}`).pipe(Effect.as(ok ? [] : [label]))

/** The seed's deployment checks, once. Fails when one fails. */
const deploymentChecks = Effect.gen(function*() {
  const pending = (yield* (yield* makeMigrator()).status).filter((s) => s.appliedAt === undefined)
  const migrations = yield* check(pending.length === 0, pending.length === 0
    ? "migrations: all applied"
    : `migrations: ${pending.length} pending (${pending.map((m) => m.version).join(", ")}); run \`parley migrate up\``)
  // The session checks read tables the pending migrations create.
  if (pending.length > 0) return yield* new DoctorCheckFailed({ failed: migrations })
  const health = yield* sessionHealth
  const duplicates = yield* health.duplicateActiveSessions
  const failed = [
    ...migrations,
    ...(yield* check(yield* health.uniqueIndexPresent, "unique index idx_unique_active_session_per_user present")),
    ...(yield* check(duplicates.length === 0, `users with more than one active session: ${duplicates.length}`))
  ]
  yield* Console.log("sessions created per hour (last 24 h):")
  for (const h of yield* health.sessionsPerHour) yield* Console.log(`  ${h.hour.toISOString()}  ${h.sessions_created}`)
  yield* Console.log("recent sessions:")
  for (const s of yield* health.recentSessions(10)) {
    yield* Console.log(`  ${s.id}  ${s.status.padEnd(9)}  ${String(s.message_count).padStart(4)} messages  ${s.created_at.toISOString()}`)
  }
  if (failed.length > 0) return yield* new DoctorCheckFailed({ failed })
})

/** The read-only invariant polls, every `interval`, until a violation (or `span` has passed). */
const watchRounds = (interval: string, span: Option.Option<string>) =>
  Effect.gen(function*() {
    yield* watchDeployment({
      interval: yield* durationOf("interval", interval),
      for: Option.isSome(span) ? yield* durationOf("for", span.value) : undefined
    })
  })

type DoctorError = Effect.Error<typeof deploymentChecks> | Effect.Error<ReturnType<typeof watchRounds>>

/** The seed's deployment checks. Exits non-zero when one fails. With --watch, the read-only invariant polls instead. */
const doctor = Command.make("doctor", {
  watch: Flag.Boolean("watch").pipe(Flag.withDefault(false), Flag.withDescription("Poll the invariants read-only every --interval; exit non-zero on the first violation (for watching a deploy)")),
  interval: Flag.String("interval").pipe(Flag.withDefault("1s"), Flag.withDescription("--watch: time between rounds")),
  for: Flag.String("for").pipe(Flag.optional, Flag.withDescription("--watch: stop (exit 0) after this long; default: until interrupted"))
}, ({ watch, interval, for: span }) =>
  withDatabase<void, DoctorError, PgClient.PgClient>(watch ? watchRounds(interval, span) : deploymentChecks)
).pipe(Command.withDescription("The seed's deployment checks: migrations, unique index, duplicate active sessions, sessions per hour, recent sessions"))

const hammer = Command.make("hammer", {
  mode: Flag.Literals("mode", HammerMode.literals).pipe(Flag.withDefault("sql" as const), Flag.withDescription("sql: get_or_create_session as a Supabase client calls it; adapter: SessionStore.getOrCreateActive; engine: accept → workers → commit")),
  users: Flag.Int("users").pipe(Flag.withDefault(8), Flag.withDescription("hammer users (created under +999…, removed after)")),
  callers: Flag.Int("callers").pipe(Flag.withDefault(32), Flag.withDescription("concurrent callers (engine: producers, and workers over all pools)")),
  duration: Flag.String("duration").pipe(Flag.optional, Flag.withDescription("how long to run (10s, 2m); default 10s unless --count is given")),
  count: Flag.Int("count").pipe(Flag.optional, Flag.withDescription("how many calls (engine: messages)")),
  idleTimeout: Flag.String("idle-timeout").pipe(Flag.withDefault("50ms"), Flag.withDescription("session idle timeout: short, so callers race on expiry too")),
  seed: Flag.Int("seed").pipe(Flag.optional, Flag.withDescription("seed of the users, bursts and redeliveries picked (printed)")),
  connections: Flag.Int("connections").pipe(Flag.withDefault(16), Flag.withDescription("connections the load uses (engine: over all pools)")),
  pools: Flag.Int("pools").pipe(Flag.withDefault(3), Flag.withDescription("engine: worker pools in the process, each with its own connections")),
  pollInterval: Flag.String("poll-interval").pipe(Flag.withDefault("100ms"), Flag.withDescription("time between invariant polls"))
}, (flags) =>
  withDatabase((url) => Effect.gen(function*() {
    const count = Option.getOrUndefined(flags.count)
    yield* runHammer({
      url,
      mode: flags.mode,
      users: flags.users,
      callers: flags.callers,
      count,
      duration: Option.isSome(flags.duration)
        ? yield* durationOf("duration", flags.duration.value)
        : count === undefined ? Duration.seconds(10) : undefined,
      idleTimeout: yield* durationOf("idle-timeout", flags.idleTimeout),
      seed: Option.getOrElse(flags.seed, () => Math.floor(Math.random() * 2 ** 31)),
      connections: flags.connections,
      pools: flags.pools,
      pollInterval: yield* durationOf("poll-interval", flags.pollInterval)
    })
  }))).pipe(Command.withDescription("Drive concurrent load against DATABASE_URL and check the invariants while it runs; exits 0 only if none was violated"))

const seed = Command.make("seed-demo", {}, () =>
  withDatabase(Effect.gen(function*() {
    yield* seedDemo()
    yield* Console.log("demo data seeded (Karim +33612345678, Sarah +447700900123, Lucie +33698765432; Champigny, Ivry-sur-Seine, Montreuil)")
  }))).pipe(Command.withDescription("Insert the demo subcontractors, projects and tasks (idempotent)"))

const parley = Command.make("parley").pipe(
  Command.withDescription("parley: WhatsApp assistants whose conversations never split"),
  Command.withSubcommands([start, migrate, doctor, hammer, seed])
)

// SIGTERM and SIGINT interrupt the main fiber: for `start` that is the requested,
// graceful shutdown (the scope has closed by now), so it exits 0 like a finished command.
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

/** A configuration error names its variable on one line: `invalid WORKER_COUNT: Expected a value greater than 0`. */
const oneLine = (error: unknown): string => {
  const message = error instanceof Error || (typeof error === "object" && error !== null && "message" in error) ? String((error as { message: unknown }).message) : String(error)
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : undefined
  if (tag !== "ConfigError") return message.replace(/\s*\n\s*/g, " ")
  const name = /at \["([^"]+)"\]/.exec(message)?.[1]
  const reason = message.replace(/^\w+\(/, "").replace(/\)$/, "").replace(/\s*at \[[^\]]*\]/g, "").replace(/\s*\n\s*/g, " ").trim()
  return name === undefined ? `invalid configuration: ${reason}` : `invalid ${name}: ${reason}`
}

/** A failed command prints one line naming what went wrong, not a stack trace (`--log-level debug` shows the cause). */
const reportFailure = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.tapCause(self, (cause) =>
    Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.gen(function*() {
      const error = Cause.squash(cause)
      yield* Console.error(`parley: ${oneLine(error)}`)
      yield* Effect.logDebug("failure").pipe(Effect.annotateLogs({ cause: Cause.pretty(cause) }))
    }))

parley.pipe(
  Command.run({ version: "0.1.0" }),
  reportFailure,
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ teardown, disableErrorReporting: true })
)

