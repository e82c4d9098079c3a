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
 * An in-process fake of Meta's Graph API: `POST /{version}/{phone-number-id}/messages`
 * answers like Meta (`messaging_product`, `contacts`, `messages[].id`), mark-as-read
 * answers `{ success: true }`, and `failNext` queues error answers. Every sent
 * message is recorded and announced to `onMessage` listeners (the server's
 * dev-mode simulator shows replies through it).
 */
export const startFakeGraphApi = async () => {
  let counter = 0
  const sent: Array<SentToGraph> = []
  const server = await startFakeProviderServer((request: RecordedRequest): Answer => {
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
