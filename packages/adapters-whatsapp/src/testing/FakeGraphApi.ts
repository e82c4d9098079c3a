import { Effect } from "effect"
import { startFakeProviderServer, type Answer, type RecordedRequest } from "./FakeProviderServer.ts"

export interface SentToGraph {
  readonly phoneNumberId: string
  readonly authorization: string | undefined
  readonly payload: Record<string, unknown>
  readonly wamid: string
}

/** The error bodies Meta returns, for `failNext`. */
export const graphError = (status: number, code: number, message: string): Answer => ({
  status,
  body: { error: { message, type: "OAuthException", code, fbtrace_id: "fake" } }
})

/**
 * How the fake misbehaves (chaos tests): `failEvery` answers every n-th send
 * with a 500, `hang` holds the next `count` sends for `millis` before answering.
 * A held send counts as delivered only if its client still waits at the end:
 * a client that timed out has not had its message sent.
 */
export interface GraphFaults {
  readonly failEvery?: number
  readonly hang?: { readonly count: number; readonly millis: number }
}

/**
 * An in-process fake of Meta's Graph API: `POST /{version}/{phone-number-id}/messages`
 * answers like Meta (`messaging_product`, `contacts`, `messages[].id`), mark-as-read
 * answers `{ success: true }`, and `failNext` queues error answers. Every sent
 * message is recorded and announced to `onMessage` listeners (the server's
 * dev-mode simulator shows replies through it).
 */
export const startFakeGraphApi = async () => {
  let counter = 0
  const sent: Array<SentToGraph> = []
  let faults: GraphFaults = {}
  let sends = 0
  let hangsLeft = 0
  const stats = { failed: 0, hung: 0, abandoned: 0 }
  const server = await startFakeProviderServer(async (request: RecordedRequest, connection): Promise<Answer> => {
    const match = /^\/[^/]+\/([^/]+)\/messages$/.exec(request.path.split("?")[0] ?? "")
    if (request.method !== "POST" || match === null) return graphError(404, 803, "Unknown path")
    let payload: Record<string, unknown>
    try {
      payload = JSON.parse(request.body)
    } catch {
      return graphError(400, 100, "Invalid JSON")
    }
    if (payload["status"] === "read") return { status: 200, body: { success: true } }
    // A phone number in `to`, or a business-scoped user id in `recipient` (`to` wins when both are there).
    const to = typeof payload["to"] === "string" ? payload["to"] : undefined
    const recipient = typeof payload["recipient"] === "string" ? payload["recipient"] : undefined
    if (to === undefined && recipient === undefined) return graphError(400, 100, "(#100) The parameter to is required.")
    sends++
    if (faults.failEvery !== undefined && sends % faults.failEvery === 0) {
      stats.failed++
      return graphError(500, 2, "Service temporarily unavailable")
    }
    if (faults.hang !== undefined && hangsLeft > 0) {
      hangsLeft--
      stats.hung++
      await new Promise((r) => setTimeout(r, faults.hang!.millis))
      if (!connection.open()) {
        stats.abandoned++
        return graphError(500, 2, "abandoned")
      }
    }
    const wamid = `wamid.fake.${++counter}`
    sent.push({ phoneNumberId: match[1]!, authorization: request.headers.authorization, payload, wamid })
    const contact = to !== undefined ? { input: to, wa_id: to } : { input: recipient, user_id: recipient }
    return { status: 200, body: { messaging_product: "whatsapp", contacts: [contact], messages: [{ id: wamid }] } }
  })
  return {
    ...server,
    /** The base URL to configure as `META_GRAPH_URL`. */
    graphUrl: `${server.url}/v21.0`,
    sent: (): ReadonlyArray<SentToGraph> => [...sent],
    /** Misbehave from now on (`{}`: healthy again). */
    setFaults: (next: GraphFaults) => {
      faults = next
      hangsLeft = next.hang?.count ?? 0
    },
    /** Sends answered 500, held, and held until their client gave up. */
    faultStats: () => ({ ...stats }),
    onMessage: (listener: (message: SentToGraph) => void) =>
      server.onRequest((_request, answer) => {
        const id = (answer.body as { messages?: Array<{ id: string }> }).messages?.[0]?.id
        const message = sent.find((m) => m.wamid === id)
        if (message !== undefined) listener(message)
      })
  }
}

export type FakeGraphApi = Awaited<ReturnType<typeof startFakeGraphApi>>

/** The fake as a scoped Effect resource: closed with the scope. */
export const FakeGraphApiResource = Effect.acquireRelease(
  Effect.promise(() => startFakeGraphApi()),
  (fake) => Effect.promise(() => fake.close())
)
