import { metaSignature } from "@parley/adapters-whatsapp"
import { metaWebhookPayload, startFakeGraphApi, type FakeGraphApi } from "@parley/adapters-whatsapp/testing"
import type { PhoneNumber } from "@parley/core"
import { Context, Effect, Layer, Redacted, Schema } from "effect"

export interface CapturedReply {
  readonly seq: number
  readonly to: string
  readonly payload: Record<string, unknown>
  /** The id the fake Graph API gave the message: a tap on it sends it back as `context.id`. */
  readonly wamid: string
  readonly at: number
}

/** What the simulator page sends: a typed message, or a tap on a button or list row it rendered. */
export const SimulatedInput = Schema.Struct({
  phone: Schema.String,
  kind: Schema.Literals(["text", "button", "list"]),
  text: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(4096))),
  id: Schema.optionalKey(Schema.String),
  title: Schema.optionalKey(Schema.String),
  /** The wamid of the reply a tap answers. */
  replyTo: Schema.optionalKey(Schema.NonEmptyString)
})
export type SimulatedInput = typeof SimulatedInput.Type

/** The business number the simulated user writes to (`display_phone_number` in the payloads). */
const simulatorBusinessNumber = "15550001234"

/**
 * Dev mode without WhatsApp: the real Cloud API messenger talks to an
 * in-process fake Graph API (its replies are kept here for the page), and the
 * page's messages become real signed Cloud API webhooks posted over loopback
 * to the server's own `/webhooks/whatsapp`, with a secret made at start.
 */
export class DevSimulator extends Context.Service<DevSimulator, {
  readonly appSecret: Redacted.Redacted<string>
  readonly verifyToken: Redacted.Redacted<string>
  readonly graph: FakeGraphApi
  replies(waId: string, after: number): ReadonlyArray<CapturedReply>
  send(webhookUrl: string, input: SimulatedInput, phone: PhoneNumber): Effect.Effect<{ readonly status: number; readonly body: string }>
}>()("@parley/server/DevSimulator") {
  static readonly layer = Layer.effect(
    DevSimulator,
    Effect.gen(function*() {
      const graph = yield* Effect.acquireRelease(Effect.promise(() => startFakeGraphApi()), (g) => Effect.promise(() => g.close()))
      const appSecret = Redacted.make(crypto.randomUUID())
      const verifyToken = Redacted.make(crypto.randomUUID())
      const captured: Array<CapturedReply> = []
      graph.onMessage((m) => captured.push({ seq: captured.length + 1, to: String(m.payload["to"]), payload: m.payload, wamid: m.wamid, at: Date.now() }))
      let counter = 0
      return DevSimulator.of({
        appSecret,
        verifyToken,
        graph,
        replies: (waId, after) => captured.filter((r) => r.to === waId && r.seq > after),
        send: (webhookUrl, input, phone) =>
          Effect.promise(async () => {
            const message = input.kind === "text"
              ? { type: "text", text: { body: input.text ?? "" } }
              : input.kind === "button"
              ? { type: "interactive", interactive: { type: "button_reply", button_reply: { id: input.id ?? "", title: input.title ?? "" } } }
              : { type: "interactive", interactive: { type: "list_reply", list_reply: { id: input.id ?? "", title: input.title ?? "" } } }
            const context = input.replyTo === undefined ? {} : { context: { from: simulatorBusinessNumber, id: input.replyTo } }
            const body = new TextEncoder().encode(JSON.stringify(metaWebhookPayload({
              from: phone,
              id: `wamid.sim.${Date.now()}.${++counter}`,
              profileName: "Simulator",
              message: { ...message, ...context }
            })))
            const response = await fetch(webhookUrl, {
              method: "POST",
              headers: { "content-type": "application/json", "x-hub-signature-256": metaSignature(appSecret, body) },
              body
            })
            return { status: response.status, body: await response.text() }
          })
      })
    })
  )
}
