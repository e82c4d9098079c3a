import { PgClient } from "@effect/sql-pg"
import { acceptInbound, Directory, Handoff, Inbox, maskAddress, maskPhone, maskPhones, Outbox, SessionStore } from "@parley/core"
import { makeMigrator, PgListener, sessionHealth } from "@parley/adapters-pg"
import { constantTimeEqual, MetaWebhook, normalizePhone, TwilioWebhook, type Decoded } from "@parley/adapters-whatsapp"
import { ByteSize, Clock, Context, Effect, Layer, Metric, Option, Redacted, Result, Schema } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { readFileSync } from "node:fs"
import { refreshDatabaseGauges } from "../AlertMetrics.ts"
import { DevSimulator, SimulatedInput } from "../dev/DevSimulator.ts"
import { problem } from "./HttpProblem.ts"
import { reportProviderNotices } from "./ProviderNotices.ts"
import { renderPrometheus } from "./prometheus.ts"

/** What the routes need to know about this server instance. */
export class ServerSettings extends Context.Service<ServerSettings, {
  readonly maxBodyBytes: number
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
  /** Where the server reaches itself (the simulator posts its webhooks there). */
  readonly selfUrl: string
  readonly twilioEnabled: boolean
}>()("@parley/server/ServerSettings") {}

const webhookRequests = Metric.counter("parley_webhook_requests_total", {
  description: "Webhook requests by provider and HTTP status",
  incremental: true
})

/** Items of a delivery that were not messages or statuses we could read; the rest of the delivery is accepted. */
const webhookSkipped = Metric.counter("parley_webhook_skipped_total", {
  description: "Items of accepted webhook deliveries that could not be decoded, by provider and item kind",
  incremental: true
})

const header = (request: HttpServerRequest.HttpServerRequest, name: string) => request.headers[name]

/** Logs a rejected request once, counts it, and answers with the JSON problem. */
const reject = (provider: string, status: number, code: string, message: string) =>
  Effect.as(
    Effect.logWarning("webhook rejected").pipe(Effect.annotateLogs({ event: "webhook.rejected", provider, status, code, reason: message })),
    problem(status, code, message)
  )

/**
 * A webhook's raw bytes (signatures are computed on them), or the 415 / 413 /
 * 400 answer when the content type, the size or the read is wrong. A declared
 * `content-length` over the limit is refused before reading anything.
 */
const webhookBody = (request: HttpServerRequest.HttpServerRequest, provider: string, contentType: string, maxBytes: number) =>
  Effect.gen(function*() {
    const rejected = (status: number, code: string, message: string) =>
      Effect.map(reject(provider, status, code, message), (response) => ({ _tag: "Rejected" as const, response }))
    if (!(header(request, "content-type") ?? "").toLowerCase().startsWith(contentType)) {
      return yield* rejected(415, "unsupported_media_type", `${provider} webhooks are ${contentType}`)
    }
    const tooLarge = rejected(413, "payload_too_large", `bodies are limited to ${maxBytes} bytes`)
    if (Number(header(request, "content-length") ?? "0") > maxBytes) return yield* tooLarge
    // A chunked body has no length to check first: the reader stops at the limit instead of buffering it all.
    const read = yield* request.arrayBuffer.pipe(Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBytes)), Effect.result)
    if (Result.isSuccess(read)) return { _tag: "Body" as const, bytes: new Uint8Array(read.success) }
    const reason = read.failure.reason
    return yield* reason._tag === "RequestParseError" && reason.reason === "BodyTooLarge"
      ? tooLarge
      : rejected(400, "unreadable_body", "the body could not be read")
  })

const accept = (provider: string, decoded: Decoded) =>
  Effect.gen(function*() {
    const result = yield* acceptInbound(decoded.messages)
    yield* reportProviderNotices(provider, decoded)
    for (const item of decoded.skipped) {
      yield* Metric.update(Metric.withAttributes(webhookSkipped, { provider, item: item.item }), 1)
      yield* Effect.logWarning("webhook item skipped").pipe(Effect.annotateLogs({
        event: "webhook.skipped",
        provider,
        item: item.item,
        reason: item.reason,
        ...(item.id === undefined ? {} : { providerMessageId: item.id })
      }))
    }
    return HttpServerResponse.jsonUnsafe({
      accepted: result.accepted,
      duplicates: result.duplicates,
      statuses: decoded.statuses.length,
      errors: decoded.errors.length,
      skipped: decoded.skipped.length
    })
  }).pipe(Effect.catchTag("StoreUnavailable", (e) =>
    // Not accepted, so the provider must retry: a 503 makes Meta and Twilio redeliver.
    Effect.as(Effect.logError("inbox unavailable").pipe(Effect.annotateLogs({ event: "webhook.unavailable", error: e.message })), problem(503, "unavailable", "the inbox could not store the message; retry later"))
  ))

const track = (provider: string) => <E, R>(effect: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.tap(effect, (response) => Metric.update(Metric.withAttributes(webhookRequests, { provider, status: String(response.status) }), 1))

const MetaRoute = HttpRouter.add("*", "/webhooks/whatsapp", (request) =>
  Effect.gen(function*() {
    const meta = yield* MetaWebhook
    const settings = yield* ServerSettings
    const url = new URL(request.url, "http://localhost")
    if (request.method === "GET") {
      return yield* meta.verifyHandshake(url.searchParams).pipe(
        Effect.map((challenge) => HttpServerResponse.text(challenge)),
        Effect.catchTag("VerificationFailed", (e) => reject("meta", 403, "verification_failed", e.reason))
      )
    }
    if (request.method !== "POST") return yield* reject("meta", 405, "method_not_allowed", "use GET (verification) or POST (events)")
    const body = yield* webhookBody(request, "meta", "application/json", settings.maxBodyBytes)
    if (body._tag === "Rejected") return body.response
    return yield* meta.verifyAndDecode(body.bytes, header(request, "x-hub-signature-256")).pipe(
      Effect.flatMap((decoded) => accept("meta", decoded)),
      Effect.catchTags({
        SignatureError: (e) => reject("meta", 401, "bad_signature", `X-Hub-Signature-256 ${e.reason}`),
        WebhookDecodeError: (e) => reject("meta", 400, "undecodable_payload", e.reason)
      })
    )
  }).pipe(track("meta")))

const TwilioRoute = HttpRouter.add("*", "/webhooks/twilio", (request) =>
  Effect.gen(function*() {
    const settings = yield* ServerSettings
    if (!settings.twilioEnabled) return yield* reject("twilio", 404, "not_configured", "Twilio is not configured (TWILIO_AUTH_TOKEN)")
    const twilio = yield* TwilioWebhook
    if (request.method !== "POST") return yield* reject("twilio", 405, "method_not_allowed", "use POST")
    const body = yield* webhookBody(request, "twilio", "application/x-www-form-urlencoded", settings.maxBodyBytes)
    if (body._tag === "Rejected") return body.response
    const url = new URL(request.url, "http://localhost")
    return yield* twilio.verifyAndDecode(body.bytes, url.pathname + url.search, header(request, "x-twilio-signature"), yield* Clock.currentTimeMillis).pipe(
      Effect.flatMap((decoded) => accept("twilio", decoded)),
      Effect.catchTags({
        SignatureError: (e) => reject("twilio", 401, "bad_signature", `X-Twilio-Signature ${e.reason}`),
        WebhookDecodeError: (e) => reject("twilio", 400, "undecodable_payload", e.reason)
      })
    )
  }).pipe(track("twilio")))

const HealthRoutes = Layer.mergeAll(
  HttpRouter.add("GET", "/healthz", HttpServerResponse.jsonUnsafe({ status: "ok" })),
  HttpRouter.add("GET", "/readyz", Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const checks = yield* Effect.gen(function*() {
      yield* sql`SELECT 1`
      const migrator = yield* makeMigrator()
      const status = yield* migrator.status
      const health = yield* sessionHealth
      return {
        database: true,
        migrationsCurrent: status.every((s) => s.appliedAt !== undefined) && (yield* migrator.unknownApplied).length === 0,
        uniqueIndex: yield* health.uniqueIndexPresent
      }
    }).pipe(Effect.orElseSucceed(() => ({ database: false, migrationsCurrent: false, uniqueIndex: false })))
    const ready = checks.database && checks.migrationsCurrent && checks.uniqueIndex
    // Degraded wake-ups (LISTEN lost or unavailable: workers poll) slow replies but lose nothing: still ready, and said.
    const wakeups = yield* Effect.serviceOption(PgListener).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.succeed({ listening: false, degraded: "no listener" }), onSome: (l) => l.status }))
    )
    const details = { wakeups: wakeups.listening ? "listening" : `degraded: ${wakeups.degraded}` }
    return HttpServerResponse.jsonUnsafe({ ready, checks: { ...checks, listening: wakeups.listening }, details }, { status: ready ? 200 : 503 })
  })),
  HttpRouter.add("GET", "/metrics", refreshDatabaseGauges.pipe(
    Effect.andThen(Metric.snapshot),
    Effect.map((s) => HttpServerResponse.text(renderPrometheus(s), { contentType: "text/plain; version=0.0.4; charset=utf-8" }))
  ))
)

/** Admin JSON API: behind `Authorization: Bearer $ADMIN_TOKEN`; absent when no token is configured. */
const admin = <E, R>(handler: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  (request: HttpServerRequest.HttpServerRequest) =>
    Effect.gen(function*() {
      const settings = yield* ServerSettings
      if (Option.isNone(settings.adminToken)) return problem(404, "admin_disabled", "set ADMIN_TOKEN to enable the admin API")
      const given = (header(request, "authorization") ?? "").replace(/^Bearer /i, "")
      const expected = Redacted.value(settings.adminToken.value)
      if (given === "") return problem(401, "unauthorized", "a bearer token is required")
      if (!constantTimeEqual(given, expected)) return problem(403, "forbidden", "wrong token")
      return yield* handler(request)
    })

/** A store that cannot answer is a 503 with a JSON body, as everywhere else: never a 500 with an empty one. */
const unavailable = <E extends { readonly message: string }, R>(self: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.catch(self, (e) =>
    Effect.as(
      Effect.logError("admin request failed").pipe(Effect.annotateLogs({ event: "admin.unavailable", error: e.message })),
      problem(503, "unavailable", "the store could not answer; retry later")
    ))

/** Inbox ids are bigserial: anything but digits is refused before it reaches the store. */
const inboxId = /^[1-9]\d{0,17}$/
const decodedParam = (value: string | undefined) => {
  try {
    return value === undefined ? undefined : decodeURIComponent(value)
  } catch {
    return undefined
  }
}
/** Reply ids are `{provider}:{provider message id}:{index}`, bounded like the ids they embed. */
const replyId = /^[a-z]+:[^\s]{1,300}:\d{1,3}$/

const AdminRoutes = Layer.mergeAll(
  HttpRouter.add("GET", "/admin/users/:phone/sessions", admin(() =>
    Effect.gen(function*() {
      const { phone } = yield* HttpRouter.params
      const normalized = normalizePhone(phone ?? "")
      if (Option.isNone(normalized)) return problem(400, "bad_phone", "not a phone number")
      const user = yield* (yield* Directory).byPhone(normalized.value)
      if (user === undefined) return problem(404, "unknown_user", "no subcontractor with that number")
      const sessions = yield* (yield* sessionHealth).sessionsOf(user.id)
      return HttpServerResponse.jsonUnsafe({ user: { id: user.id, name: user.displayName, phone: maskPhone(user.phone) }, sessions })
    }).pipe(unavailable))),
  HttpRouter.add("GET", "/admin/inbox/dead", admin(() =>
    Effect.map(Effect.flatMap(Effect.service(Inbox), (inbox) => inbox.listDead(100)), (dead) =>
      HttpServerResponse.jsonUnsafe({
        dead: dead.map((d) => ({ id: d.entry.id, from: maskAddress(d.entry.message.from), attempts: d.entry.attempts, error: d.error, failedAt: new Date(d.failedAt).toISOString() }))
      })).pipe(unavailable))),
  HttpRouter.add("POST", "/admin/inbox/dead/:id/retry", admin(() =>
    Effect.gen(function*() {
      const { id } = yield* HttpRouter.params
      if (id === undefined || !inboxId.test(id)) return problem(400, "bad_id", "an inbox entry id is a positive integer")
      const retried = yield* (yield* Inbox).retryDead(id, yield* Clock.currentTimeMillis)
      return retried ? HttpServerResponse.jsonUnsafe({ retried: true }) : problem(404, "not_dead", "no dead inbox entry with that id")
    }).pipe(unavailable))),
  HttpRouter.add("GET", "/admin/outbox/dead", admin(() =>
    Effect.map(Effect.flatMap(Effect.service(Outbox), (outbox) => outbox.listDead(100)), (dead) =>
      HttpServerResponse.jsonUnsafe({
        dead: dead.map((d) => ({ id: d.replyId, to: maskAddress(d.to), attempts: d.attempts, error: maskPhones(d.error), failedAt: new Date(d.failedAt).toISOString() }))
      })).pipe(unavailable))),
  HttpRouter.add("POST", "/admin/outbox/dead/:id/retry", admin(() =>
    Effect.gen(function*() {
      const id = decodedParam((yield* HttpRouter.params).id)
      if (id === undefined || !replyId.test(id)) return problem(400, "bad_id", "a reply id is {provider}:{message id}:{index}")
      const retried = yield* (yield* Outbox).retryDead(id, yield* Clock.currentTimeMillis)
      return retried ? HttpServerResponse.jsonUnsafe({ retried: true }) : problem(404, "not_dead", "no dead reply with that id")
    }).pipe(unavailable))),
  HttpRouter.add("GET", "/admin/escalations", admin(() =>
    Effect.map(Effect.flatMap(Effect.service(Handoff), (h) => h.list(100)), (list) =>
      HttpServerResponse.jsonUnsafe({ escalations: list.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) })).pipe(unavailable)))
)

const simulatorPage = readFileSync(new URL("../dev/simulator.html", import.meta.url), "utf8")
const decodeInput = Schema.decodeUnknownEffect(Schema.fromJsonString(SimulatedInput))

/** Dev mode only: the simulator page and its two helpers. */
export const DevRoutes = Layer.mergeAll(
  HttpRouter.add("GET", "/", HttpServerResponse.html(simulatorPage)),
  HttpRouter.add("POST", "/dev/send", (request) =>
    Effect.gen(function*() {
      const sim = yield* DevSimulator
      const settings = yield* ServerSettings
      const text = yield* request.text.pipe(Effect.orElseSucceed(() => ""))
      const input = yield* decodeInput(text).pipe(Effect.option)
      if (Option.isNone(input)) return problem(400, "bad_input", "expected { phone, kind: text|button|list, text | id+title }")
      const phone = normalizePhone(input.value.phone)
      if (Option.isNone(phone)) return problem(400, "bad_phone", "not a phone number")
      const result = yield* sim.send(`${settings.selfUrl}/webhooks/whatsapp`, input.value, phone.value)
      return HttpServerResponse.text(result.body, { status: result.status, contentType: "application/json" })
    })),
  HttpRouter.add("GET", "/dev/replies", (request) =>
    Effect.gen(function*() {
      const sim = yield* DevSimulator
      const url = new URL(request.url, "http://localhost")
      const phone = normalizePhone(url.searchParams.get("phone") ?? "")
      if (Option.isNone(phone)) return problem(400, "bad_phone", "not a phone number")
      return HttpServerResponse.jsonUnsafe({ replies: sim.replies(phone.value.slice(1), Number(url.searchParams.get("after") ?? "0")) })
    })),
  HttpRouter.add("GET", "/dev/session", (request) =>
    Effect.gen(function*() {
      const url = new URL(request.url, "http://localhost")
      const phone = normalizePhone(url.searchParams.get("phone") ?? "")
      if (Option.isNone(phone)) return problem(400, "bad_phone", "not a phone number")
      const user = yield* (yield* Directory).byPhone(phone.value)
      if (user === undefined) return HttpServerResponse.jsonUnsafe({ registered: false })
      const sessions = yield* (yield* SessionStore).listByUser(user.id)
      const current = sessions.find((s) => s.isActive) ?? sessions[0]
      return HttpServerResponse.jsonUnsafe({
        registered: true,
        name: user.displayName,
        sessions: sessions.length,
        current: current === undefined ? null : { id: current.id, status: current.status, lastMessageAt: current.lastMessageAt.epochMilliseconds }
      })
    }).pipe(Effect.orDie))
)

export const CoreRoutes = Layer.mergeAll(MetaRoute, TwilioRoute, HealthRoutes, AdminRoutes)
