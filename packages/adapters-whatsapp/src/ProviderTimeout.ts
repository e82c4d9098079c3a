import { SendFailed } from "@parley/core"
import { Duration, Effect } from "effect"

/** How long one request to a provider (request and response body) may take unless configured. */
export const defaultRequestTimeout = Duration.seconds(10)

/**
 * Bounds one provider exchange: a provider that does not answer in time is a
 * retryable `timeout` (the message may or may not have gone out), and the
 * request is interrupted, which aborts it. Without it a hung Graph API held a
 * sender for as long as the socket stayed open.
 */
export const withRequestTimeout = (timeout: Duration.Input = defaultRequestTimeout) =>
<A, R>(call: Effect.Effect<A, SendFailed, R>): Effect.Effect<A, SendFailed, R> =>
  Effect.timeoutOrElse(call, {
    duration: timeout,
    orElse: () => Effect.fail(new SendFailed({ reason: "timeout", retryable: true, message: `no answer within ${Duration.format(Duration.fromInputUnsafe(timeout))}` }))
  })
