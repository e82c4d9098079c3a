import type { Decoded } from "@parley/adapters-whatsapp"
import { count, maskAddress } from "@parley/core"
import { Effect, Metric } from "effect"

/** Meta's value-level `errors[]`: trouble with the app or account (throughput limit, unknown error…), by code. */
export const providerErrors = Metric.counter("parley_provider_errors_total", {
  description: "Error notices providers sent in webhooks outside any message (Meta's errors[]), by provider and code",
  incremental: true
})

/** Replies the provider reports it could not deliver (a `failed` status), by error code. */
export const deliveryFailures = Metric.counter("parley_delivery_failures_total", {
  description: "Failed delivery statuses of our replies, by provider and error code",
  incremental: true
})

/**
 * The codes whose series exist from the first scrape (see `primeAlertCounters`):
 * Meta's throughput and pair rate limits, its unknown error, and the common
 * delivery failures (undeliverable, outside the 24-hour window).
 */
export const primedProviderErrorCodes = ["130429", "131000", "131056"] as const
export const primedDeliveryFailureCodes = ["131026", "131047", "131000"] as const

/**
 * Logs and counts what a delivery says besides user messages: each delivery
 * status (failed ones by code), and each error notice. Nothing of it is
 * stored or answered.
 */
export const reportProviderNotices = (provider: string, decoded: Decoded) =>
  Effect.gen(function*() {
    for (const s of decoded.statuses) {
      yield* Effect.logInfo("delivery status").pipe(Effect.annotateLogs({
        event: "webhook.status",
        provider,
        status: s.status,
        recipient: maskAddress(s.recipient),
        ...(s.error ? { errorCode: s.error.code } : {})
      }))
      if (s.status === "failed") yield* count(deliveryFailures, { provider, code: s.error?.code ?? "none" })
    }
    for (const e of decoded.errors) {
      yield* count(providerErrors, { provider, code: e.code })
      yield* Effect.logWarning("provider error notice").pipe(Effect.annotateLogs({
        event: "webhook.provider_error",
        provider,
        code: e.code,
        title: e.title,
        ...(e.details === undefined ? {} : { details: e.details.slice(0, 300) })
      }))
    }
  })
