import { createServer, type IncomingHttpHeaders, type Server } from "node:http"

export interface ChatRequestBody {
  readonly model: string
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: string }>
  readonly response_format?: { readonly type: string; readonly json_schema?: { readonly name: string; readonly strict?: boolean; readonly schema: Record<string, unknown> } }
  readonly [key: string]: unknown
}

export interface RecordedChatRequest {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly raw: string
  readonly body: ChatRequestBody
}

/** What the fake answers: a model's message content (wrapped in a chat completion), or any raw HTTP response. */
export type FakeAnswer =
  | { readonly content: string | null; readonly delayMillis?: number; readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number } }
  | { readonly status: number; readonly raw: string; readonly delayMillis?: number }

/** The content a model would send for these fields (the slots default to null). */
export const answerJson = (fields: { intent: string; site?: string | null; task?: string | null; problem?: string | null }) =>
  JSON.stringify({ site: null, task: null, problem: null, ...fields })

/** The text the classifier asked about: the last message, after its "Message to classify:" line. */
export const classifiedText = (body: ChatRequestBody): string =>
  (body.messages.at(-1)?.content ?? "").replace(/^Message to classify:\n/, "")

/**
 * A local OpenAI-compatible chat-completions server on loopback, speaking the
 * real protocol: it records each request and answers with what `respond`
 * returns (or the queued answers first). Delays let tests hold calls in flight.
 */
export const startFakeChatCompletions = async (respond: (request: RecordedChatRequest) => FakeAnswer) => {
  const requests: Array<RecordedChatRequest> = []
  const queued: Array<FakeAnswer> = []
  let inFlight = 0
  let maxInFlight = 0
  const timers = new Set<NodeJS.Timeout>()
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8")
      let body: ChatRequestBody
      try {
        body = JSON.parse(raw) as ChatRequestBody
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end(`{"error":{"message":"invalid JSON"}}`)
        return
      }
      const recorded: RecordedChatRequest = { path: req.url ?? "/", headers: req.headers, raw, body }
      requests.push(recorded)
      const answer = queued.shift() ?? respond(recorded)
      inFlight += 1
      maxInFlight = Math.max(maxInFlight, inFlight)
      const finish = () => {
        inFlight -= 1
        if (res.destroyed) return
        if ("status" in answer) {
          res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.raw)
          return
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: "chat.completion",
          model: body.model,
          choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: answer.content } }],
          usage: answer.usage ?? { prompt_tokens: Math.ceil(raw.length / 4), completion_tokens: 20 }
        }))
      }
      if (answer.delayMillis === undefined) return finish()
      const timer = setTimeout(() => {
        timers.delete(timer)
        finish()
      }, answer.delayMillis)
      timers.add(timer)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    /** What `LLM_BASE_URL` is set to. */
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests: (): ReadonlyArray<RecordedChatRequest> => [...requests],
    /** The next requests get these answers, in order, instead of `respond`'s. */
    queue: (...answers: ReadonlyArray<FakeAnswer>) => void queued.push(...answers),
    /** The most requests it held at once. */
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

export type FakeChatCompletions = Awaited<ReturnType<typeof startFakeChatCompletions>>
