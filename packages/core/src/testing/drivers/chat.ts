import { Effect } from "effect"
import { acceptInbound } from "../../intake/acceptInbound.ts"
import { InboundMessage, type MessageContent } from "../../channel/InboundMessage.ts"
import type { PhoneNumber } from "../../channel/PhoneNumber.ts"
import type { ListRow, Reply } from "../../channel/Reply.ts"
import { drainInbox, drainOutbox } from "./drain.ts"
import { RecordingMessenger } from "../doubles/RecordingMessenger.ts"

/** An inbound message with an id of its own (unique across runs sharing a store); `replyTo` as a tap carries it. */
export const inboundOf = (from: PhoneNumber, content: MessageContent, replyTo?: string) =>
  new InboundMessage({
    provider: "meta",
    providerMessageId: `wamid.chat.${crypto.randomUUID()}`,
    from,
    sentAt: 0,
    content,
    ...(replyTo === undefined ? {} : { replyTo })
  })

export const rowsOf = (reply: Reply | undefined): ReadonlyArray<ListRow> =>
  reply?._tag === "ListReplyMessage" ? reply.sections.flatMap((s) => s.rows) : []

export const buttonsOf = (reply: Reply | undefined): ReadonlyArray<string> =>
  reply?._tag === "ButtonsReply" ? reply.buttons.map((b) => b.title) : []

/** What tapping the button or row titled `title` of `reply` sends (it fails the test when there is none). */
export const tapContent = (reply: Reply | undefined, title: string): MessageContent => {
  if (reply?._tag === "ButtonsReply") {
    const button = reply.buttons.find((b) => b.title === title)
    if (button !== undefined) return { _tag: "ButtonReply", id: button.id, title: button.title }
  }
  const row = rowsOf(reply).find((r) => r.title === title)
  if (row !== undefined) return { _tag: "ListReply", id: row.id, title: row.title }
  throw new Error(`no "${title}" to tap in ${JSON.stringify(reply)}`)
}

/**
 * Delivers `message` through the inbox, the workers and the outbox, as the
 * server runs them, and returns the replies sent meanwhile.
 */
export const deliverThrough = (message: InboundMessage) =>
  Effect.gen(function*() {
    const messenger = yield* RecordingMessenger
    const before = (yield* messenger.sent).length
    yield* acceptInbound([message])
    yield* drainInbox()
    yield* drainOutbox
    return (yield* messenger.sent).slice(before).map((s) => s.reply)
  })

/**
 * One user's side of a WhatsApp chat: `say` types text, `send` sends any
 * content, `tap` taps a button or row of a reply (carrying that reply's
 * provider id, as WhatsApp's `context.id` does). Each returns the replies.
 */
export const chatAs = (from: PhoneNumber) => {
  const send = (content: MessageContent, on?: Reply) =>
    Effect.gen(function*() {
      const sent = yield* (yield* RecordingMessenger).sent
      const replyTo = on === undefined ? undefined : sent.find((s) => s.reply === on)?.providerMessageId
      return yield* deliverThrough(inboundOf(from, content, replyTo))
    })
  return {
    send,
    say: (body: string) => send({ _tag: "Text", body }),
    tap: (reply: Reply | undefined, title: string) => send(tapContent(reply, title), reply),
    photo: (ref: string, caption?: string) =>
      send({ _tag: "Media", kind: "image", ref, ...(caption === undefined ? {} : { caption }) })
  }
}
