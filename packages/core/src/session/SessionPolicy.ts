import { Config, Context, Duration, Effect, Layer } from "effect"

export interface SessionPolicyShape {
  /** A session idle for longer than this is ended (`timeout`) by the next message. */
  readonly idleTimeout: Duration.Duration
}

export const defaultIdleTimeout = Duration.minutes(30)

/** How sessions age. Defaults to a 30 minute idle timeout; `SESSION_IDLE_TIMEOUT` overrides it. */
export const SessionPolicy: Context.Reference<SessionPolicyShape> = Context.Reference<SessionPolicyShape>(
  "@parley/core/SessionPolicy",
  { defaultValue: () => ({ idleTimeout: defaultIdleTimeout }) }
)

export const sessionPolicyConfig: Config.Config<SessionPolicyShape> = Config.Duration("SESSION_IDLE_TIMEOUT").pipe(
  Config.withDefault(defaultIdleTimeout),
  Config.map((idleTimeout) => ({ idleTimeout }))
)

export const SessionPolicyFromConfig: Layer.Layer<never, Config.ConfigError> = Layer.effect(
  SessionPolicy,
  Effect.gen(function*() {
    return yield* sessionPolicyConfig
  })
)
