import { Effect } from "effect"
import { createServer, type Server } from "node:http"

/**
 * A Node HTTP server that stops in the right order. `server.close()` alone
 * stops accepting connections but keeps serving requests on kept-alive ones,
 * and a provider keeps its connections busy: a stopping instance went on
 * answering webhooks after it said it had stopped. Draining marks every answer
 * `Connection: close`, closes each connection as soon as it is idle, and
 * resolves once none is left (or cuts the rest after `graceMillis`).
 */
export const makeDrainableServer = () => {
  const server: Server = createServer()
  let draining = false
  server.prependListener("request", (_request, response) => {
    if (draining) response.setHeader("connection", "close")
  })
  const drain = (graceMillis: number) =>
    Effect.callback<void>((resume) => {
      draining = true
      if (!server.listening) return resume(Effect.void)
      // A connection that was busy when `close` was called becomes idle later: sweep until none is left.
      const sweep = setInterval(() => server.closeIdleConnections(), 20)
      const cut = setTimeout(() => server.closeAllConnections(), graceMillis)
      server.close(() => {
        clearInterval(sweep)
        clearTimeout(cut)
        resume(Effect.void)
      })
      server.closeIdleConnections()
    })
  return { server, drain }
}
