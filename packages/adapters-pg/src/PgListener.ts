import { PgClient } from "@effect/sql-pg"
import { Context, Duration, Effect, Layer, Metric, Schedule, Scope, Stream } from "effect"
import { sqlErrorDetail } from "./mapSqlError.ts"

/** What `/readyz` and the logs say about wake-ups. */
export interface WakeupStatus {
  /** LISTEN is held on every channel: a new message wakes an idle worker at once. */
  readonly listening: boolean
  /** Why wake-ups are degraded (workers poll every `pollInterval` meanwhile); absent when listening. */
  readonly degraded?: string | undefined
}

export interface ListenerOptions {
  /** How often idle workers poll while LISTEN is down or unavailable. */
  readonly pollInterval: Duration.Duration
  /** First and longest wait between reconnection attempts. */
  readonly backoff?: { readonly initial: Duration.Duration; readonly max: Duration.Duration } | undefined
}

export const defaultListenerOptions: ListenerOptions = { pollInterval: Duration.millis(250) }

export const listenConnected = Metric.gauge("parley_listen_connected", {
  description: "1 while this instance holds LISTEN on every wake-up channel, else 0 (workers poll meanwhile)"
})

/**
 * Wake-ups from Postgres NOTIFY, held for the life of the process: one
 * connection per channel, re-established with backoff whenever it is lost (a
 * killed backend, a Postgres restart, a pooler that dropped it). While a
 * channel is not listening, its handler is called every `pollInterval`, so
 * workers poll fast instead of sleeping their whole idle timeout.
 */
export class PgListener extends Context.Service<PgListener, {
  /** Keeps LISTEN on each channel, calling its handler per notification, until the scope closes. */
  readonly hold: (channels: ReadonlyArray<{ readonly channel: string; readonly onNotify: Effect.Effect<void> }>) => Effect.Effect<void, never, Scope.Scope>
  readonly status: Effect.Effect<WakeupStatus>
}>()("@parley/adapters-pg/PgListener") {}

/** LISTEN through `sql` (a direct or session connection): never through a transaction pooler, which drops it silently. */
export const makePgListener = (sql: PgClient.PgClient, options: ListenerOptions = defaultListenerOptions) =>
  Effect.sync(() => {
    const down = new Map<string, string>()
    let holding = 0
    const interval = options.pollInterval
    const backoff = options.backoff ?? { initial: Duration.millis(100), max: Duration.seconds(5) }
    const publish = Effect.suspend(() => Metric.update(listenConnected, holding > 0 && down.size === 0 ? 1 : 0))
    const setDown = (channel: string, reason: string | undefined) =>
      Effect.suspend(() => {
        if (reason === undefined) down.delete(channel)
        else down.set(channel, reason)
        return publish
      })

    const holdOne = (channel: string, onNotify: Effect.Effect<void>) =>
      Effect.gen(function*() {
        let lost = false
        let attempt = 0
        while (true) {
          const result = yield* Effect.scoped(Effect.gen(function*() {
            const queue = yield* sql.listen(channel)
            attempt = 0
            yield* setDown(channel, undefined)
            if (lost) {
              lost = false
              yield* Effect.logInfo("LISTEN re-established").pipe(Effect.annotateLogs({ event: "db.listen_restored", channel }))
            }
            // Whatever was notified while nobody listened is found by one claim now.
            yield* onNotify
            return yield* Stream.fromQueue(queue).pipe(Stream.runForEach(() => onNotify))
          })).pipe(Effect.result)
          const error = result._tag === "Failure" ? sqlErrorDetail(result.failure) : "the notification stream ended"
          if (!lost) {
            lost = true
            yield* setDown(channel, `LISTEN ${channel} lost (${error}); reconnecting`)
            yield* Effect.logWarning("LISTEN lost; reconnecting, workers poll meanwhile").pipe(
              Effect.annotateLogs({ event: "db.listen_lost", channel, error, pollMillis: Duration.toMillis(interval) })
            )
          } else {
            yield* Effect.logDebug("LISTEN reconnection failed").pipe(Effect.annotateLogs({ channel, error, attempt }))
          }
          const wait = Math.min(Duration.toMillis(backoff.max), Duration.toMillis(backoff.initial) * 2 ** attempt++)
          yield* Effect.sleep(Duration.millis(wait * (0.5 + Math.random() / 2)))
        }
      })

    /** While the channel is down, its handler runs every `interval`: the fast poll. */
    const pollWhileDown = (channel: string, onNotify: Effect.Effect<void>) =>
      Effect.suspend(() => (down.has(channel) ? onNotify : Effect.void)).pipe(Effect.repeat(Schedule.spaced(interval)))

    return PgListener.of({
      hold: (channels) =>
        Effect.gen(function*() {
          holding++
          yield* Effect.addFinalizer(() => Effect.sync(() => holding--))
          for (const { channel } of channels) down.set(channel, `LISTEN ${channel} not established yet`)
          yield* publish
          for (const { channel, onNotify } of channels) {
            yield* Effect.forkScoped(holdOne(channel, onNotify))
            yield* Effect.forkScoped(pollWhileDown(channel, onNotify))
          }
        }),
      status: Effect.sync(() =>
        down.size === 0
          ? { listening: true }
          : { listening: false, degraded: `${[...down.values()].join("; ")}; workers poll every ${Duration.toMillis(interval)} ms` })
    })
  })

/**
 * No LISTEN at all: `DATABASE_POOL_MODE=transaction` without a
 * `DATABASE_DIRECT_URL`. Workers poll every `pollInterval`.
 */
export const makePollingListener = (reason: string, options: ListenerOptions = defaultListenerOptions) =>
  Effect.sync(() =>
    PgListener.of({
      hold: (channels) =>
        Effect.gen(function*() {
          yield* Metric.update(listenConnected, 0)
          for (const { onNotify } of channels) {
            yield* Effect.forkScoped(onNotify.pipe(Effect.repeat(Schedule.spaced(options.pollInterval))))
          }
        }),
      status: Effect.succeed({ listening: false, degraded: `${reason}; workers poll every ${Duration.toMillis(options.pollInterval)} ms` })
    })
  )

/** LISTEN on the `PgClient` of the context (direct or session-mode connections). */
export const PgListenerLayer = (options: ListenerOptions = defaultListenerOptions) =>
  Layer.effect(PgListener, Effect.flatMap(PgClient.PgClient, (sql) => makePgListener(sql, options)))

/** Polling only, saying why in `/readyz`. */
export const PollingListenerLayer = (reason: string, options: ListenerOptions = defaultListenerOptions) =>
  Layer.effect(PgListener, makePollingListener(reason, options))
