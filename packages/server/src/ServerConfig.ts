import { databaseUrlConfig, poolSizeConfig } from "@parley/adapters-pg"
import { leasesConfig, PhoneNumber, retentionConfig, sessionPolicyConfig } from "@parley/core"
import { Config, Option } from "effect"
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
  dataDir: Config.String("DATA_DIR").pipe(Config.withDefault(".data")),
  poolSize: poolSizeConfig,
  workers: Config.Int("WORKER_COUNT").pipe(Config.withDefault(4)),
  sessionPolicy: sessionPolicyConfig,
  retention: retentionConfig,
  leases: leasesConfig,
  maxBodyBytes: Config.Int("MAX_BODY_BYTES").pipe(Config.withDefault(defaultMaxBodyBytes)),
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

