import { leasesConfig, PhoneNumber, retentionConfig, sessionPolicyConfig } from "@parley/core"
import { databaseUrlConfig, directUrlConfig, poolModeConfig, poolSizeConfig, positiveIntConfig } from "@parley/adapters-pg"
import { Config, Effect, Option, Schema } from "effect"
import { allOrNone } from "./allOrNone.ts"
import { intentClassifierConfig } from "./IntentClassifierConfig.ts"

/**
 * Meta documents webhook payloads of up to 3 MB (a batch holds up to 1,000
 * updates): anything smaller as the default would refuse genuine signed
 * deliveries with 413 until Meta gives up on them. The body is still read as
 * a bounded stream, so a chunked body stops at the limit.
 */
export const defaultMaxBodyBytes = 3 * 1024 * 1024

/**
 * Everything the server reads from the environment, validated at start: a
 * bad value stops the process with a message naming the variable.
 */
export const serverConfig = Config.all({
  port: Config.Port("PORT").pipe(Config.withDefault(3000)),
  host: Config.String("HOST").pipe(Config.withDefault("127.0.0.1")),
  databaseUrl: Config.option(databaseUrlConfig),
  directUrl: directUrlConfig,
  // Unset: session, or what the URL says for sure (Supabase's 6543 is its transaction pooler).
  poolMode: Config.option(poolModeConfig),
  wakePollMillis: positiveIntConfig("WAKE_POLL_INTERVAL_MS", 250),
  dataDir: Config.String("DATA_DIR").pipe(Config.withDefault(".data")),
  poolSize: poolSizeConfig,
  workers: positiveIntConfig("WORKER_COUNT", 4),
  sessionPolicy: sessionPolicyConfig,
  retention: retentionConfig,
  leases: leasesConfig,
  maxBodyBytes: positiveIntConfig("MAX_BODY_BYTES", defaultMaxBodyBytes),
  adminToken: Config.option(Config.Redacted("ADMIN_TOKEN")),
  logFormat: Config.Literals(["pretty", "json"], "LOG_FORMAT").pipe(Config.withDefault("pretty" as const)),
  logLevel: Config.Literals(["trace", "debug", "info", "warn", "error", "none"], "LOG_LEVEL").pipe(Config.withDefault("info" as const)),
  publicBaseUrl: Config.option(Config.String("PUBLIC_BASE_URL")),
  meta: allOrNone(["META_APP_SECRET", "META_VERIFY_TOKEN", "META_ACCESS_TOKEN", "META_PHONE_NUMBER_ID"], Config.all({
    appSecret: Config.Redacted("META_APP_SECRET"),
    verifyToken: Config.Redacted("META_VERIFY_TOKEN"),
    accessToken: Config.Redacted("META_ACCESS_TOKEN"),
    phoneNumberId: Config.String("META_PHONE_NUMBER_ID"),
    graphUrl: Config.String("META_GRAPH_URL").pipe(Config.withDefault("https://graph.facebook.com/v21.0"))
  })),
  twilio: allOrNone(["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM"], Config.all({
    accountSid: Config.String("TWILIO_ACCOUNT_SID"),
    authToken: Config.Redacted("TWILIO_AUTH_TOKEN"),
    from: Config.schema(PhoneNumber, "TWILIO_WHATSAPP_FROM"),
    apiUrl: Config.String("TWILIO_API_URL").pipe(Config.withDefault("https://api.twilio.com"))
  })),
  classifier: intentClassifierConfig
})

export type ServerConfig = Config.Success<typeof serverConfig>

/** Dev mode: no Meta credentials, so the simulator and an in-process fake Graph API stand in for WhatsApp. */
export const isDevMode = (config: ServerConfig) => Option.isNone(config.meta)


/** A setting given but empty (`PORT=''`): the environment reads it as unset, which would silently use the default. */
export class EmptySetting extends Schema.TaggedError<EmptySetting>()("EmptySetting", { name: Schema.String }) {
  override get message() {
    return `${this.name} is set but empty: give it a value or unset it`
  }
}

// DATABASE_URL='' keeps meaning "no database given: the embedded one".
const mustNotBeEmpty = [
  "PORT", "HOST", "DATA_DIR", "DATABASE_POOL_SIZE", "DATABASE_POOL_MODE", "DATABASE_DIRECT_URL", "WAKE_POLL_INTERVAL_MS",
  "WORKER_COUNT", "MAX_BODY_BYTES", "LOG_FORMAT", "LOG_LEVEL", "ADMIN_TOKEN"
] as const

/** `serverConfig`, refusing an empty value where it would silently fall back to a default. */
export const loadServerConfig = Effect.gen(function*() {
  const empty = mustNotBeEmpty.find((name) => process.env[name] === "")
  if (empty !== undefined) return yield* new EmptySetting({ name: empty })
  return yield* serverConfig
})
