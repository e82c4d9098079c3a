import { Duration, Effect, Layer, Schema } from "effect"
import * as fc from "fast-check"
import { Assistant } from "../../assistant/Assistant.ts"
import type { MessageContent } from "../../channel/InboundMessage.ts"
import type { Reply } from "../../channel/Reply.ts"
import { describeContent } from "../../pipeline/processMessage.ts"
import { AssistantStall, type ConversationScript } from "../properties/ConversationProperty.ts"

/**
 * The state the echo assistant keeps per message: on an inbound message its
 * number in the session, on a reply what it echoed (what "Again" repeats).
 */
export const EchoState = Schema.Struct({
  turn: Schema.optionalKey(Schema.Int),
  said: Schema.optionalKey(Schema.String)
})
export type EchoState = typeof EchoState.Type

export const echoAgainId = "echo_again"
export const echoMissBody = "Nothing to repeat in this conversation."
export const echoUnknownBody = "Who is this? This number is not known here."

const echo = (turn: number, said: string): Reply => ({
  _tag: "ButtonsReply",
  body: `#${turn} You said: ${said}`,
  buttons: [{ id: echoAgainId, title: "Again" }]
})

const isAgain = (content: MessageContent) => (content._tag === "ButtonReply" || content._tag === "ListReply") && content.id === echoAgainId

/**
 * A second, tiny assistant for engine tests: it echoes what it is sent,
 * numbered within the session; its "Again" button repeats the echo it stands
 * for, found through the state stored with the replies (so a tap resolves
 * only within its session, as the worksite's lists do); "human" escalates.
 * It answers at once unless `AssistantStall` says otherwise (or
 * `thinkMillisPerChar` makes it take time, as a model would).
 */
export const makeEchoAssistantLayer = (options: { readonly thinkMillisPerChar?: number } = {}): Layer.Layer<Assistant | AssistantStall> =>
  Layer.unwrap(Effect.sync(() => {
  let stall: number | undefined
  const think = (text: string) =>
    Effect.suspend(() => {
      const millis = stall ?? text.length * (options.thinkMillisPerChar ?? 0)
      stall = undefined
      return millis === 0 ? Effect.void : Effect.sleep(Duration.millis(millis))
    })
  return Layer.merge(
    Assistant.layer({
      state: EchoState,
      respond: (request) =>
        Effect.gen(function*() {
          const content = request.inbound.content
          const said = describeContent(content)
          yield* think(said)
          const turn = (request.recent.find((m) => m.direction === "inbound")?.metadata.turn ?? 0) + 1
          if (isAgain(content)) {
            const last = request.recent.find((m) => m.direction === "outbound" && m.metadata.said !== undefined)?.metadata.said
            return last === undefined
              ? { state: { turn }, replies: [{ reply: { _tag: "TextReply", body: echoMissBody } }], label: { via: "echo", result: "miss" } }
              : { state: { turn }, replies: [{ reply: echo(turn, last), state: { said: last } }], label: { via: "echo", result: "hit" } }
          }
          if (said.trim().toLowerCase() === "human") {
            return { state: { turn }, replies: [{ reply: { _tag: "TextReply", body: "A human will answer." } }], escalate: { reason: "asked" }, label: { via: "echo" } }
          }
          return { state: { turn }, replies: [{ reply: echo(turn, said), state: { said } }], label: { via: "echo" } }
        }),
      unknownSender: () => Effect.succeed([{ _tag: "TextReply", body: echoUnknownBody }])
    }),
    Layer.succeed(AssistantStall, AssistantStall.of({ stallNext: (millis) => Effect.sync(() => { stall = millis }) }))
  )
}))

/** The echo assistant answering at once (but for `Stall`s). */
export const EchoAssistantLayer = makeEchoAssistantLayer()

/** The echo assistant taking 100 ms per character, as the property's slow worksite classifier does. */
export const SlowEchoAssistantLayer = makeEchoAssistantLayer({ thinkMillisPerChar: 100 })

/** The echo assistant's conversations: words, "Again" taps, photos; a tap on an "Again" shown in its session never misses. */
export const echoScript: ConversationScript = {
  utterances: fc.oneof(
    fc.constantFrom("hello", "1", "two words", "", "human").map((body) => ({ _tag: "Text" as const, body })),
    fc.nat({ max: 3 }).map((pick) => ({ _tag: "Tap" as const, kind: "button" as const, id: echoAgainId, title: "Again", pick })),
    fc.boolean().map((caption) => ({ _tag: "Photo" as const, caption }))
  ),
  checkSession: (messages, label) =>
    messages.flatMap((m, i) => {
      if (m.direction !== "inbound" || m.metadata.interactive?.id !== echoAgainId) return []
      const shown = messages.slice(0, i).some((p) => p.direction === "outbound" && p.metadata["said"] !== undefined)
      return shown && messages[i + 1]?.content === echoMissBody ? [`[direct-action] ${m.providerMessageId} of ${label} tapped Again, shown in its session, and missed`] : []
    })
}
