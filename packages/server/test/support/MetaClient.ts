import { PgClient } from "@effect/sql-pg"
import { metaWebhookPayload, type FakeGraphApi } from "@parley/adapters-whatsapp/testing"
import type { PhoneNumber } from "@parley/core"
import { Effect, Redacted } from "effect"
import { createHmac } from "node:crypto"
import { eventually } from "./ServerProcess.ts"

/** The server's environment for the Cloud API app, its Graph API the fake one. */
export const metaEnv = (graph: FakeGraphApi, appSecret: string): Record<string, string> => ({
  META_APP_SECRET: appSecret,
  META_VERIFY_TOKEN: "e2e-verify",
  META_ACCESS_TOKEN: "e2e-access",
  META_PHONE_NUMBER_ID: "106540352242922",
  META_GRAPH_URL: graph.graphUrl
})

/** One SQL query on a scratch database, on a connection of its own. */
export const queryOn = (databaseUrl: () => string) => <A extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    return (yield* sql.unsafe<A>(text, params)) as ReadonlyArray<A>
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(databaseUrl()), maxConnections: 1 }))))

/**
 * A WhatsApp user's side against the running server: Cloud API webhooks
 * signed with the app secret (the HMAC computed here with node:crypto), and
 * the replies the fake Graph API received for a number.
 */
export const metaClient = (serverUrl: () => string, graph: () => FakeGraphApi, appSecret: string, idPrefix: string) => {
  const post = (body: string | Uint8Array, headers: Record<string, string> = {}, method = "POST") =>
    fetch(`${serverUrl()}/webhooks/whatsapp`, { method, headers: { "content-type": "application/json", ...headers }, body })
  const sign = (body: string) => `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`
  let n = 0
  const deliver = (from: PhoneNumber, message: Record<string, unknown>, id = `wamid.${idPrefix}.${++n}`) => {
    const body = JSON.stringify(metaWebhookPayload({ from, id, message }))
    return post(body, { "x-hub-signature-256": sign(body) })
  }
  const sentTo = (phone: string) => graph().sent().filter((m) => m.payload["to"] === phone.slice(1))
  return {
    post,
    sign,
    deliver,
    sentTo,
    waitForReplies: (phone: string, count: number) =>
      eventually(() => (sentTo(phone).length >= count ? sentTo(phone) : undefined), `${count} replies to ${phone}`)
  }
}

export const text = (body: string) => ({ type: "text", text: { body } })
