import { request, type Agent } from "node:http"

/**
 * POSTs a signed Cloud API webhook body over node:http with the caller's
 * agent (kept-alive connections, as Meta's delivery infrastructure keeps
 * them); `timeoutMillis` gives up on an instance that stopped answering.
 */
export const postMetaWebhook = (options: {
  readonly agent: Agent
  readonly url: URL
  readonly body: Buffer
  readonly signature: string
  readonly timeoutMillis?: number
}) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({
      agent: options.agent,
      host: options.url.hostname,
      port: options.url.port,
      path: options.url.pathname,
      method: "POST",
      headers: { "content-type": "application/json", "content-length": options.body.length, "x-hub-signature-256": options.signature }
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }))
      res.on("error", reject)
    })
    if (options.timeoutMillis !== undefined) req.setTimeout(options.timeoutMillis, () => req.destroy(new Error("timeout")))
    req.on("error", reject)
    req.end(options.body)
  })
