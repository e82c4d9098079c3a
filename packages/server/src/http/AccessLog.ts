import { maskPhone } from "@parley/core"
import { Effect, Option } from "effect"
import { HttpMiddleware, HttpServerError, HttpServerRequest } from "effect/http"

// A path segment that is a phone number: the admin API's `/admin/users/:phone/…`.
const phoneSegment = /^(?:%2B|\+)?\d{7,15}$/i

/** The request path with any phone number masked, and without its query (which may carry one). */
export const loggedPath = (url: string): string =>
  new URL(url, "http://localhost").pathname
    .split("/")
    .map((segment) => (phoneSegment.test(segment) ? maskPhone(decodeURIComponent(segment)) : segment))
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
