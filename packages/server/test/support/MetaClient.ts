import { PgClient } from "@effect/sql-pg"
import { metaWebhookPayload, type FakeGraphApi, type SentToGraph } from "@parley/adapters-whatsapp/testing"
import type { PhoneNumber } from "@parley/core"
import { Effect, Redacted } from "effect"
import { createHmac } from "node:crypto"
import { assert } from "vitest"
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

/** A tap on a button or row of the message `on` (its wamid comes back as `context.id`, as Meta sends it). */
export const tap = (id: string, title: string, kind: "button_reply" | "list_reply", on: SentToGraph) => ({
  type: "interactive",
  interactive: { type: kind, [kind]: { id, title } },
  context: { from: "15550001234", id: on.wamid }
})

/** The seed's manual test: Bonjour → menu → "Voir mes chantiers" → Champigny → its three tasks. */
export const seedManualTest = async (chat: ReturnType<typeof metaClient>, phone: PhoneNumber) => {
  assert.strictEqual((await chat.deliver(phone, text("Bonjour"))).status, 200)
  const [menu] = await chat.waitForReplies(phone, 1)
  const menuButtons = (menu!.payload["interactive"] as { action: { buttons: Array<{ reply: { id: string; title: string } }> } }).action.buttons
  assert.deepStrictEqual(menuButtons.map((b) => b.reply.title), ["Voir mes chantiers", "Signaler un problème", "Parler à quelqu'un"])

  await chat.deliver(phone, tap(menuButtons[0]!.reply.id, menuButtons[0]!.reply.title, "button_reply", menu!))
  const list = (await chat.waitForReplies(phone, 2))[1]!
  const rows = (list.payload["interactive"] as { action: { sections: Array<{ rows: Array<{ id: string; title: string }> }> } }).action.sections.flatMap((s) => s.rows)
  const champigny = rows.find((r) => r.title === "Champigny")!
  assert.isDefined(champigny)

  await chat.deliver(phone, tap(champigny.id, champigny.title, "list_reply", list))
  const tasks = (await chat.waitForReplies(phone, 3))[2]!
  const taskRows = (tasks.payload["interactive"] as { body: { text: string }; action: { sections: Array<{ rows: Array<{ title: string }> }> } })
  assert.match(taskRows.body.text, /Champigny/)
  assert.deepStrictEqual(taskRows.action.sections[0]!.rows.map((r) => r.title), ["Pose des cloisons R+1", "Réseau électrique lot B", "Ragréage hall d'entrée"])
}
