import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import {
  defaultPrunerOptions,
  defaultRetryPolicy,
  defaultSenderOptions,
  OutboxSenderLayer,
  PrunerLayer,
  SessionPolicy,
  WorkersLayer
} from "@parley/core"
import { pgAssistantWith } from "@parley/worksite/pg"
import { PgRetention } from "@parley/adapters-pg"
import { CloudApiMessenger, MetaWebhook, TwilioMessenger, TwilioWebhook } from "@parley/adapters-whatsapp"
import { Duration, Effect, Layer, Logger, Option, Redacted, References, Schema } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { primeAlertCounters } from "./AlertMetrics.ts"
import { listenerLayer, migrateOnStart, pgClientLayer, reportDatabaseRoute, resolveDatabase, sessionClientLayer } from "./Database.ts"
import { DevSimulator } from "./dev/DevSimulator.ts"
import { accessLog } from "./http/AccessLog.ts"
import { makeDrainableServer } from "./http/Draining.ts"
import { CoreRoutes, DevRoutes, ServerSettings } from "./http/Routes.ts"
import { intentClassifierLayer } from "./IntentClassifierConfig.ts"
import { isDevMode, type ServerConfig } from "./ServerConfig.ts"

/**
 * The provider side: real credentials when configured, else the simulator and
 * the fake Graph API. Outbound calls go through undici's dispatcher directly
 * (`NodeHttpClient.layerUndici`): `fetch` adds web streams to every send (with
 * them, about 8 % of the server's profile in `npm run bench:e2e`).
 */
const providers = (config: ServerConfig, selfUrl: string) => Layer.provide(providersOn(config, selfUrl), NodeHttpClient.layerUndici)

const providersOn = (config: ServerConfig, selfUrl: string) => {
  const twilioWebhook = Option.match(config.twilio, {
    onSome: (t) => TwilioWebhook.layer({ authToken: t.authToken, publicBaseUrl: Option.getOrElse(config.publicBaseUrl, () => selfUrl) }),
    // Never reached: the route answers 404 first. A random token keeps any forged request out anyway.
    onNone: () => TwilioWebhook.layer({ authToken: Redacted.make(crypto.randomUUID()), publicBaseUrl: selfUrl })
  })
  if (Option.isSome(config.meta)) {
    const meta = config.meta.value
    return Layer.mergeAll(
      MetaWebhook.layer({ appSecret: meta.appSecret, verifyToken: meta.verifyToken }),
      CloudApiMessenger.layerWithClient({ graphUrl: meta.graphUrl, phoneNumberId: meta.phoneNumberId, accessToken: meta.accessToken, requestTimeout: config.leases.sendTimeout }),
      twilioWebhook
    )
  }
  if (Option.isSome(config.twilio)) {
    const t = config.twilio.value
    // Twilio-only deployments still need the Meta route's service; a random secret makes it refuse everything.
    return Layer.mergeAll(
      MetaWebhook.layer({ appSecret: Redacted.make(crypto.randomUUID()), verifyToken: Redacted.make(crypto.randomUUID()) }),
      TwilioMessenger.layerWithClient({ apiUrl: t.apiUrl, accountSid: t.accountSid, authToken: t.authToken, from: t.from, requestTimeout: config.leases.sendTimeout }),
      twilioWebhook
    )
  }
  return Layer.unwrap(Effect.map(Effect.service(DevSimulator), (sim) =>
    Layer.mergeAll(
      MetaWebhook.layer({ appSecret: sim.appSecret, verifyToken: sim.verifyToken }),
      CloudApiMessenger.layerWithClient({ graphUrl: sim.graph.graphUrl, phoneNumberId: "simulator", accessToken: Redacted.make("simulator"), requestTimeout: config.leases.sendTimeout }),
      twilioWebhook
    ))).pipe(Layer.provide(DevSimulator.layer))
}

/** The HTTP port could not be taken (in use, not permitted): said before anything claims to listen. */
export class CannotListen extends Schema.TaggedError<CannotListen>()("CannotListen", {
  host: Schema.String,
  port: Schema.Number,
  reason: Schema.String
}) {
  override get message() {
    return `cannot listen on ${this.host}:${this.port} (PORT, HOST): ${this.reason}`
  }
}

const listenReason = (cause: unknown) => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  if (code === "EADDRINUSE") return "the port is already in use (another parley? choose another PORT)"
  if (code === "EACCES") return "permission denied (ports below 1024 need privileges)"
  if (code === "EADDRNOTAVAIL") return "no such local address (HOST)"
  return cause instanceof Error ? cause.message : String(cause)
}

/**
 * The whole server: database (migrated, demo data on an embedded one), the
 * stores, the providers, the workers and the outbox sender, and the HTTP
 * routes. Closing it (SIGTERM) stops accepting, releases in-flight claims,
 * closes the pool and stops an embedded Postgres, in that order.
 */
export const ServerLayer = (config: ServerConfig) =>
  Layer.provide(serverLayer(config), stoppedLog)

// Built first, so closed last: `server.stopped` is the last line, once requests, workers, the pool and an embedded Postgres are done.
const stoppedLog = Layer.effectDiscard(Effect.addFinalizer(() => Effect.logInfo("parley stopped").pipe(Effect.annotateLogs({ event: "server.stopped" }))))

const serverLayer = (config: ServerConfig) =>
  Layer.unwrap(Effect.gen(function*() {
    const db = yield* resolveDatabase(config)
    yield* reportDatabaseRoute(db, config.wakePollMillis)
    const selfUrl = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.port}`
    const pool = pgClientLayer(db, config.poolSize)
    const migrate = Layer.effectDiscard(migrateOnStart(db.embedded))
    // Migrations take a whole session: through DATABASE_DIRECT_URL when given, before the pool opens.
    const database = Option.isSome(db.directUrl)
      ? pool.pipe(Layer.provide(migrate.pipe(Layer.provide(sessionClientLayer(db)))))
      : migrate.pipe(Layer.provideMerge(pool))
    const wakeups = listenerLayer(db, { pollInterval: Duration.millis(config.wakePollMillis) }).pipe(Layer.provideMerge(database))
    // The worksite assistant with the classifier INTENT_CLASSIFIER chose (the rules by default).
    const stores = Layer.mergeAll(pgAssistantWith(intentClassifierLayer(config.classifier)), PgRetention).pipe(Layer.provideMerge(wakeups))
    const settings = Layer.succeed(ServerSettings, ServerSettings.of({
      maxBodyBytes: config.maxBodyBytes,
      adminToken: config.adminToken,
      selfUrl,
      twilioEnabled: Option.isSome(config.twilio)
    }))
    const policy = Layer.succeed(SessionPolicy, config.sessionPolicy)
    // The workers hand the replies they commit to this process's sender (no claim for them), and stop before it.
    const background = Layer.mergeAll(
      WorkersLayer({ concurrency: config.workers, lease: config.leases.inbox, idlePoll: Duration.seconds(5), retry: defaultRetryPolicy }).pipe(
        Layer.provide(OutboxSenderLayer({
          ...defaultSenderOptions,
          leaseMillis: Duration.toMillis(config.leases.outbox),
          sendTimeoutMillis: Duration.toMillis(config.leases.sendTimeout)
        }))
      ),
      PrunerLayer(defaultPrunerOptions(config.retention))
    )
    // One listening server for the routes and for `started`, which waits for it: a port in use
    // fails the start before anything says "listening".
    const drainable = makeDrainableServer()
    const http = NodeHttpServer.layer(() => drainable.server, { port: config.port, host: config.host })
    // `started` is built after the HTTP server, the workers and the sender, so closed before them: the
    // first step of a shutdown is to stop taking requests, kept-alive connections included.
    const assemble = <E, R>(routes: Layer.Layer<never, E, R>) =>
      started.pipe(
        Layer.provide(Layer.mergeAll(HttpRouter.serve(routes, { disableLogger: true, middleware: accessLog }), background)),
        Layer.provide(http),
        Layer.provide(Layer.mergeAll(providers(config, selfUrl), settings, policy)),
        Layer.provide(stores)
      )
    const started = Layer.effectDiscard(Effect.gen(function*() {
      yield* HttpServer.HttpServer
      yield* primeAlertCounters
      yield* Effect.logInfo(
        isDevMode(config)
          ? `parley listening on ${selfUrl} — dev mode: open ${selfUrl}/ to talk to the assistant`
          : `parley listening on ${selfUrl}`
      ).pipe(Effect.annotateLogs({ event: "server.started", database: db.embedded ? "embedded" : "DATABASE_URL", workers: config.workers }))
      yield* Effect.addFinalizer(() =>
        Effect.logInfo("parley stopping: no new requests").pipe(
          Effect.annotateLogs({ event: "server.draining" }),
          Effect.andThen(drainable.drain(5_000))
        ))
    }))
    // In dev mode the same DevSimulator.layer value feeds the providers and the simulator routes:
    // layers are memoised by reference, so both see one simulator and one fake Graph API.
    return isDevMode(config)
      ? assemble(Layer.mergeAll(CoreRoutes, DevRoutes)).pipe(Layer.provide(DevSimulator.layer))
      : assemble(CoreRoutes)
  }))

/** Runs the server until interrupted; a port that cannot be taken is one `CannotListen` line. */
export const launchServer = (config: ServerConfig) =>
  Layer.launch(ServerLayer(config)).pipe(
    Effect.catchTag("ServeError", (e) => Effect.fail(new CannotListen({ host: config.host, port: config.port, reason: listenReason(e.cause) })))
  )

const logLevels = { trace: "Trace", debug: "Debug", info: "Info", warn: "Warn", error: "Error", none: "None" } as const

export const loggerLayer = (config: ServerConfig) =>
  Layer.mergeAll(
    config.logFormat === "json" ? Logger.layer([Logger.consoleJson]) : Logger.layer([Logger.consolePretty()]),
    Layer.succeed(References.MinimumLogLevel, logLevels[config.logLevel]),
    // The server exports no traces (its telemetry is the logs and /metrics): spans would be
    // built for every stage and statement and thrown away.
    Layer.succeed(References.TracerEnabled, false)
  )

