import { PgClient } from "@effect/sql-pg"
import { PgAssistant } from "@parley/adapters-pg"
import { acceptInbound, Inbox, InboundMessage, processMessage, runWorkers, SessionPolicy, type Claim } from "@parley/core"
import { Duration, Effect, Fiber, Layer, type Redacted, References, Schedule } from "effect"
import { timed, type LoadContext } from "./LoadContext.ts"
import { reservedPrefix } from "./ReservedUsers.ts"

export interface EngineOptions {
  readonly url: Redacted.Redacted<string>
  /** Worker pools in this process, each with its own connection pool, as several server instances would be. */
  readonly pools: number
  readonly workersPerPool: number
  readonly connectionsPerPool: number
  /** How long the run waits, once the load stops, for the workers to process everything accepted. */
  readonly drainTimeout: Duration.Duration
}

export interface EngineReport {
  readonly sent: number
  readonly redelivered: number
  readonly accepted: number
  readonly duplicates: number
  /** Entries still pending or parked dead after the drain: accepted and not processed. */
  readonly unprocessed: ReadonlyArray<{ readonly providerMessageId: string; readonly state: string; readonly lastError: string | null }>
  /** Entries marked done with no inbound message stored for them. */
  readonly doneWithoutMessage: ReadonlyArray<string>
  readonly processingP50: number
  readonly processingP99: number
  /** Claims of a real user's entry, released at once: the run stopped. */
  readonly foreignClaims: number
}

const texts = ["Bonjour", "menu", "hello", "1", "2", "status", "merci", "help"]

/**
 * The null messenger: the turn's replies are dropped before the commit, so
 * nothing the hammer causes reaches the outbox, where a server's sender would
 * try to deliver it to a +999 number.
 */
const withoutReplies = (onProcessed: () => void): typeof processMessage => (inbound) =>
  Effect.map(processMessage(inbound), (turn) => {
    onProcessed()
    return { ...turn, replies: [] }
  })

/**
 * The whole engine: callers accept bursts of a user's messages (a webhook
 * carrying several), sometimes deliver an earlier batch again, while
 * `pools` worker pools claim, process and commit them. The workers share the
 * inbox with any server on the database, so a claim of a real user's entry
 * is given back at once and stops the run.
 */
export const engineLoad = (context: LoadContext, options: EngineOptions) =>
  Effect.gen(function*() {
    const runPrefix = `hammer-${context.reserved.runId}-`
    const ours = new Set<string>(context.reserved.users.map((u) => u.phone))
    let foreignClaims = 0
    // Turns produced (some may still fail to commit): the producers keep the backlog bounded by it,
    // so the run measures races between workers rather than a queue growing without end.
    let processed = 0
    const maxBacklog = 4 * context.reserved.users.length
    const guard = (inner: Inbox["Service"]): Inbox["Service"] => ({
      ...inner,
      claim: (now, lease) =>
        Effect.flatMap(inner.claim(now, lease), (claim): Effect.Effect<Claim | undefined, never> =>
          claim === undefined || ours.has(claim.entry.message.from)
            ? Effect.succeed(claim)
            : inner.release(claim).pipe(Effect.ignore, Effect.andThen(Effect.sync(() => {
              foreignClaims++
              context.budget.stop()
              return undefined
            }))))
    })
    const pool = (connections: number) =>
      PgAssistant.pipe(
        Layer.provideMerge(PgClient.layer({ url: options.url, maxConnections: connections })),
        Layer.provideMerge(Layer.succeed(SessionPolicy, { idleTimeout: context.idleTimeout }))
      )
    const workerOptions = {
      concurrency: options.workersPerPool,
      lease: Duration.seconds(30),
      idlePoll: Duration.millis(250),
      retry: { maxAttempts: 5, backoff: () => Duration.millis(100) }
    }
    const workers = yield* Effect.forEach(Array.from({ length: options.pools }), () =>
      Effect.gen(function*() {
        const inbox = yield* Inbox
        return yield* runWorkers(workerOptions, withoutReplies(() => processed++)).pipe(Effect.provideService(Inbox, guard(inbox)))
      }).pipe(Effect.provide(Layer.fresh(pool(options.connectionsPerPool))), Effect.forkChild))

    // The producers: bursts of 1–4 messages of one user; one call in five delivers an earlier batch again.
    let sequence = 0
    let sent = 0
    let redelivered = 0
    let accepted = 0
    let duplicates = 0
    const delivered: Array<ReadonlyArray<InboundMessage>> = []
    yield* Effect.gen(function*() {
      const produce = Effect.gen(function*() {
        while (!context.budget.done()) {
          if (sent - processed > maxBacklog) {
            yield* Effect.sleep(Duration.millis(5))
            continue
          }
          if (delivered.length > 0 && context.prng.next() < 0.2) {
            const again = delivered[context.prng.int(delivered.length)]!
            const result = yield* timed(context.recorder, acceptInbound(again))
            if (result !== undefined) {
              redelivered += again.length
              accepted += result.accepted
              duplicates += result.duplicates
            }
            continue
          }
          const granted = context.budget.take(1 + context.prng.int(4))
          if (granted === 0) return
          const user = context.reserved.users[context.prng.int(context.reserved.users.length)]!
          const batch = Array.from({ length: granted }, () =>
            new InboundMessage({
              provider: "simulator",
              providerMessageId: `${runPrefix}${sequence++}`,
              from: user.phone,
              sentAt: Date.now(),
              content: { _tag: "Text", body: texts[context.prng.int(texts.length)]! }
            }))
          const result = yield* timed(context.recorder, acceptInbound(batch))
          if (result !== undefined) {
            sent += batch.length
            accepted += result.accepted
            duplicates += result.duplicates
            delivered.push(batch)
          }
        }
      })
      yield* Effect.forEach(Array.from({ length: context.callerCount }), () => produce, { concurrency: "unbounded", discard: true })
    }).pipe(Effect.provide(Layer.fresh(pool(Math.max(2, Math.min(context.callerCount, 8))))))

    // The drain: every entry of the run done (or the timeout), then the workers stop.
    const sql = yield* PgClient.PgClient
    // By sender and state: the pending index answers it, however large the inbox.
    const open = sql<{ n: number }>`
      SELECT count(*)::int AS n FROM inbox
      WHERE state = 'pending' AND sender IN (SELECT phone FROM subcontractors WHERE display_name = ${context.reserved.marker})`
    yield* Effect.gen(function*() {
      while ((yield* open)[0]!.n > 0) yield* Effect.sleep(Duration.millis(100))
    }).pipe(Effect.timeoutOption(options.drainTimeout), Effect.retry(Schedule.recurs(3)), Effect.ignore)
    // Bounded, like everything the hammer does: a worker stuck on the database does not hang the run.
    yield* Effect.forEach(workers, (fiber) => Fiber.interrupt(fiber).pipe(Effect.timeoutOption(Duration.seconds(10))), { discard: true })

    const unprocessed = yield* sql<{ provider_message_id: string; state: string; last_error: string | null }>`
      SELECT provider_message_id, state, last_error FROM inbox
      WHERE provider_message_id LIKE ${runPrefix + "%"} AND state <> 'done' ORDER BY id`
    const doneWithoutMessage = yield* sql<{ provider_message_id: string }>`
      SELECT i.provider_message_id FROM inbox i
      WHERE i.provider_message_id LIKE ${runPrefix + "%"} AND i.state = 'done'
        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.provider_message_id = i.provider_message_id AND m.direction = 'inbound')
      ORDER BY i.id`
    const [latency] = yield* sql<{ p50: number | null; p99: number | null }>`
      SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) AS p99
      FROM (SELECT extract(epoch FROM completed_at - accepted_at) * 1000 AS ms FROM inbox
            WHERE provider_message_id LIKE ${runPrefix + "%"} AND state = 'done') done`
    return {
      sent,
      redelivered,
      accepted,
      duplicates,
      unprocessed: unprocessed.map((r) => ({ providerMessageId: r.provider_message_id, state: r.state, lastError: r.last_error })),
      doneWithoutMessage: doneWithoutMessage.map((r) => r.provider_message_id),
      processingP50: Number(latency?.p50 ?? 0),
      processingP99: Number(latency?.p99 ?? 0),
      foreignClaims
    } satisfies EngineReport
  }).pipe(
    // The pipeline logs every message at Info: thousands of lines that would bury the summary.
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )

/**
 * Engine mode runs workers on the shared inbox: it refuses a database where
 * real users' messages are waiting or arrived in the last ten minutes (a
 * live server), and is meant for staging and scratch databases.
 */
export const foreignInboxActivity = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const [row] = yield* sql<{ pending: number; recent: number }>`
    SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending,
           count(*) FILTER (WHERE accepted_at > now() - interval '10 minutes')::int AS recent
    FROM inbox WHERE sender NOT LIKE ${reservedPrefix + "%"}`
  return { pending: row?.pending ?? 0, recent: row?.recent ?? 0 }
})
