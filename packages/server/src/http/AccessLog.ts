import { maskPhones } from "@parley/core"
import { Effect, Option } from "effect"
import { HttpMiddleware, HttpServerError, HttpServerRequest } from "effect/http"

const decoded = (segment: string) => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/**
 * The request path with every phone-like run masked, however it is written
 * (`whatsapp:%2B33612345678`, `+33%206%2012%2034%2056%2078`): segments are
 * decoded first, so an encoding cannot hide a number. The query is dropped (it may carry one).
 */
export const loggedPath = (url: string): string =>
  new URL(url, "http://localhost").pathname
    .split("/")
    .map((segment) => maskPhones(decoded(segment)))
    .join("/")

// Probes, scrapes and the simulator's polling would drown the log at info.
const quiet = (path: string) => path === "/healthz" || path === "/readyz" || path === "/metrics" || path.startsWith("/dev/")

/**
 * The access log, in place of `HttpMiddleware.logger`, which writes the raw
 * path: no full phone number may reach a log line.
 */
export const accessLog = HttpMiddleware.make((app) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = loggedPath(request.url)
    const exit = yield* Effect.exit(app)
    const [response, cause] = exit._tag === "Success" ? [exit.value, Option.none()] : HttpServerError.causeResponseStripped(exit.cause)
    const annotations = { "http.method": request.method, "http.url": path, "http.status": response.status }
    yield* Option.match(cause, {
      onNone: () => (quiet(path) ? Effect.logDebug("Sent HTTP response") : Effect.logInfo("Sent HTTP response")),
      onSome: (c) => Effect.logError("HTTP request failed", c)
    }).pipe(Effect.annotateLogs(annotations))
    return yield* exit
  }).pipe(Effect.withLogSpan("http.span"))
)
