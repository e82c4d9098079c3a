import { Config, ConfigProvider, Duration, Effect } from "effect"

/** How long workers and the outbox sender hold what they claim, and how long a provider call may take. */
export interface Leases {
  /** `INBOX_LEASE`: a dead worker's message is taken over after this; a live worker renews it every third. */
  readonly inbox: Duration.Duration
  /** `OUTBOX_LEASE`: a reply whose sender died is sent again after this. */
  readonly outbox: Duration.Duration
  /** `SEND_TIMEOUT`: the longest a provider call may take; shorter than the outbox lease. */
  readonly sendTimeout: Duration.Duration
}

export const defaultLeases: Leases = {
  inbox: Duration.seconds(15),
  outbox: Duration.seconds(30),
  sendTimeout: Duration.seconds(10)
}

const refuse = (name: string, message: string) =>
  Effect.fail(new Config.ConfigError(new ConfigProvider.SourceError({ message: `${name}: ${message}` })))

/**
 * `INBOX_LEASE`, `OUTBOX_LEASE` and `SEND_TIMEOUT` (durations such as
 * `15 seconds`), checked together: a send timeout at least as long as the
 * outbox lease would let a live sender's reply be taken over and sent twice.
 */
export const leasesConfig: Config.Config<Leases> = Config.all({
  inbox: Config.Duration("INBOX_LEASE").pipe(Config.withDefault(defaultLeases.inbox)),
  outbox: Config.Duration("OUTBOX_LEASE").pipe(Config.withDefault(defaultLeases.outbox)),
  sendTimeout: Config.Duration("SEND_TIMEOUT").pipe(Config.withDefault(defaultLeases.sendTimeout))
}).pipe(Config.mapEffect((leases) => {
  if (Duration.toMillis(leases.inbox) < 3_000) return refuse("INBOX_LEASE", "must be at least 3 seconds")
  if (Duration.toMillis(leases.sendTimeout) <= 0) return refuse("SEND_TIMEOUT", "must be positive")
  if (Duration.toMillis(leases.sendTimeout) >= Duration.toMillis(leases.outbox)) {
    return refuse("SEND_TIMEOUT", `must be shorter than OUTBOX_LEASE (${Duration.format(leases.outbox)})`)
  }
  return Effect.succeed(leases)
}))
