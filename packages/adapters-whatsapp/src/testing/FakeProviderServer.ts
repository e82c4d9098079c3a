import { createServer, type IncomingHttpHeaders, type Server } from "node:http"

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface Answer {
  readonly status: number
  readonly body: unknown
}

/** The client's side of a request being answered: whether it still waits for the answer. */
export interface Connection {
  readonly open: () => boolean
}

/**
 * A real HTTP server on loopback that records every request and answers with
 * what `respond` says (or a queued failure). The base of the fake Graph API
 * and the fake Twilio API. `respond` may take its time (a hanging provider):
 * `connection.open()` then tells whether the client gave up meanwhile.
 */
export const startFakeProviderServer = async (respond: (request: RecordedRequest, connection: Connection) => Answer | Promise<Answer>) => {
  const requests: Array<RecordedRequest> = []
  const failures: Array<Answer> = []
  const listeners = new Set<(request: RecordedRequest, answer: Answer) => void>()
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    let closed = false
    res.on("close", () => (closed = true))
    req.on("end", async () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8")
      }
      requests.push(recorded)
      const answer = failures.shift() ?? (await respond(recorded, { open: () => !closed }))
      if (closed) return
      for (const listener of listeners) listener(recorded, answer)
      res.writeHead(answer.status, { "content-type": "application/json" })
      res.end(JSON.stringify(answer.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    requests: (): ReadonlyArray<RecordedRequest> => [...requests],
    /** The next `answers.length` requests get these answers instead of the normal one. */
    failNext: (...answers: ReadonlyArray<Answer>) => void failures.push(...answers),
    /** Called for every request with its answer; returns an unsubscribe function. */
    onRequest: (listener: (request: RecordedRequest, answer: Answer) => void) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        // Kept-alive and hanging requests would hold `close` open.
        server.closeAllConnections()
      })
  }
}
