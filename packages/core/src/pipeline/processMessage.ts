import { Clock, Effect, Metric, Option } from "effect"
import { Assistant, type AssistantResponse } from "../assistant/Assistant.ts"
import { phoneOf, type InboundMessage, type MessageContent } from "../channel/InboundMessage.ts"
import { maskAddress } from "../channel/UserAddress.ts"
import type { Reply } from "../channel/Reply.ts"
import { MessageStore, type NewMessage, type StoredMessage } from "../conversation/StoredMessage.ts"
import type { Turn } from "../conversation/Turn.ts"
import { Outbox } from "../delivery/Outbox.ts"
import { Handoff } from "../escalation/Handoff.ts"
import { maskPhone } from "../channel/PhoneNumber.ts"
import { Directory } from "../identity/Directory.ts"
import type { User } from "../identity/User.ts"
import { resolveSession } from "../session/resolveSession.ts"
import type { Session } from "../session/Session.ts"
import { PipelineError } from "./PipelineError.ts"
import { contextMessages, pipelineSeconds, trackSeconds } from "./PipelineMetrics.ts"
import { RequestContext } from "./RequestContext.ts"
import { stage } from "./stage.ts"

/** How many of the session's latest messages the assistant sees. */
export const contextSize = 20

export const describeContent = (content: MessageContent): string => {
  switch (content._tag) {
    case "Text":
      return content.body
    case "ButtonReply":
    case "ListReply":
      return content.title
    case "Media":
      return `[${content.kind}]${content.caption ? ` ${content.caption}` : ""}`
    case "Location":
      return `[location ${content.latitude},${content.longitude}]`
    case "Reaction":
      return content.emoji === undefined ? "[reaction removed]" : `[reaction ${content.emoji}]`
    case "Deleted":
      return "[deleted a message]"
    case "Edited":
      return content.content === undefined ? "[edited]" : `[edited] ${describeContent(content.content)}`
    case "SystemNotice":
      return `[${content.kind}]${content.body ? ` ${content.body}` : ""}`
    case "Contacts":
      return `[contacts] ${content.contacts.map((c) => c.name).join(", ")}`
    case "Order":
      return `[order] ${content.items.length} item(s)${content.text ? ` ${content.text}` : ""}`
    case "Unsupported":
      return `[${content.type}]`
  }
}

/** Kinds the text column only summarises: the whole content is kept in the message's metadata. */
const summarised = (content: MessageContent) =>
  content._tag !== "Text" && content._tag !== "ButtonReply" && content._tag !== "ListReply"

const describeReply = (reply: Reply): string => reply.body

/**
 * A reply's id derives from the message that caused it, so it is the same on
 * every retry and every instance: the messenger can deduplicate on it.
 */
export const replyIdOf = (inbound: InboundMessage, index: number): string =>
  `${inbound.provider}:${inbound.providerMessageId}:${index}`

/** The inbox entry's identity: what an assistant keys its side effects by, so a retried message repeats none. */
export const keyOf = (inbound: InboundMessage): string => `${inbound.provider}:${inbound.providerMessageId}`

export const identify = (inbound: InboundMessage) =>
  stage("identify", Effect.gen(function*() {
    const directory = yield* Directory
    // Phone when the provider gives it, the business-scoped user id always: either finds a known user.
    return yield* directory.identify({ phone: phoneOf(inbound), userId: inbound.userId })
  }))

/** The session's latest messages: those the session store returned with it (`preloaded`), else read from the `MessageStore`. */
export const loadContext = (session: Session, preloaded?: ReadonlyArray<StoredMessage>) =>
  stage("load_context", Effect.gen(function*() {
    const history = preloaded ?? (yield* (yield* MessageStore).recent(session.id, contextSize))
    yield* Metric.update(contextMessages, history.length)
    // Debug: the "message processed" line says how many messages the assistant saw.
    yield* Effect.logDebug("context loaded").pipe(
      Effect.annotateLogs({ event: "pipeline.context_loaded", sessionId: session.id, messages: history.length })
    )
    return history
  }))

/** The turn to commit: the inbound and outbound messages, all in the request's one session, and the replies. */
export const buildTurn = (
  context: { readonly inbound: InboundMessage; readonly user: User; readonly session: Session },
  response: AssistantResponse,
  at: number
): Turn => {
  const { inbound, user, session } = context
  const content = inbound.content
  const inboundMessage: NewMessage = {
    sessionId: session.id,
    userId: user.id,
    direction: "inbound",
    content: describeContent(content),
    providerMessageId: inbound.providerMessageId,
    metadata: {
      // The assistant's state first: the engine's own keys are not its to overwrite.
      ...response.state,
      ...(summarised(content) ? { received: content } : {}),
      ...(inbound.group === undefined ? {} : { group: inbound.group }),
      ...(content._tag === "ButtonReply" || content._tag === "ListReply" ? { interactive: { id: content.id, title: content.title } } : {})
    },
    createdAt: at
  }
  const outbound = response.replies.map((r, i): NewMessage => ({
    sessionId: session.id,
    userId: user.id,
    direction: "outbound",
    content: describeReply(r.reply),
    metadata: { ...r.state, reply: r.reply },
    // Outbound messages sort after the inbound one that caused them, in their order.
    createdAt: at + i + 1
  }))
  return {
    sessionId: session.id,
    messages: [inboundMessage, ...outbound],
    // A known user is answered at their registered number, whichever id their message came with: Meta
    // recommends sending to phone numbers (they then keep appearing in webhooks), and one recipient per user
    // keeps the outbox's per-recipient order. A stranger is answered where they wrote from, BSUID or number.
    replies: response.replies.map((r, i) => ({ replyId: replyIdOf(inbound, i), to: user.phone, reply: r.reply, sessionId: session.id })),
    escalate: response.escalate !== undefined,
    at
  }
}

/** Failures of the assistant outside any stage it declared name the `respond` stage. */
const asPipelineError = (e: { readonly _tag: string; readonly message: string }) =>
  e instanceof PipelineError ? e : new PipelineError({ stage: "respond", message: e.message })

/**
 * The pipeline for one inbound message: identify → resolve the session once →
 * (with the session carried in `RequestContext`) load context → the
 * assistant's response → the turn to commit. It writes nothing itself except
 * the handoff of an escalated session (recorded once per session); the caller
 * commits the turn atomically with the inbox entry.
 */
export const processMessage = Effect.fn("processMessage")(function*(inbound: InboundMessage) {
  const at = yield* Clock.currentTimeMillis
  const assistant = yield* Assistant
  const user = yield* identify(inbound)
  if (user === undefined) {
    yield* Effect.logInfo("unknown sender").pipe(Effect.annotateLogs({ event: "pipeline.unknown_sender", from: maskAddress(inbound.from) }))
    const replies = yield* assistant.unknownSender(inbound).pipe(Effect.mapError(asPipelineError))
    return {
      messages: [],
      replies: replies.map((reply: Reply, i) => ({ replyId: replyIdOf(inbound, i), to: inbound.from, reply })),
      escalate: false,
      at
    } satisfies Turn
  }
  const { session, outcome, recent } = yield* stage("resolve_session", Effect.gen(function*() {
    // A tap answers one of our replies: it carries the session that reply was sent in.
    const carried = inbound.replyTo === undefined ? undefined : yield* (yield* Outbox).sessionOfSent(inbound.replyTo)
    return yield* resolveSession(user.id, Option.fromUndefinedOr(carried), contextSize)
  }))
  const context = { inbound, user, session }
  return yield* Effect.gen(function*() {
    const history: ReadonlyArray<StoredMessage> = yield* loadContext(session, recent)
    const response = yield* assistant.respond({
      user,
      session,
      resolution: outcome,
      recent: history,
      inbound,
      key: keyOf(inbound),
      now: at
    }).pipe(Effect.mapError(asPipelineError))
    if (response.escalate !== undefined) {
      // Before the commit, as the assistant's own writes: `notify` keeps one handoff per session, so a retry adds none.
      yield* stage("escalate", Effect.flatMap(Effect.service(Handoff), (handoff) =>
        handoff.notify({ userId: user.id, sessionId: session.id, displayName: user.displayName, maskedPhone: maskPhone(user.phone), at })))
    }
    // One line per message at info: what was decided, in which session, obtained how, on how much context.
    yield* Effect.logInfo("message processed").pipe(Effect.annotateLogs({
      event: "pipeline.processed",
      ...response.label,
      sessionId: session.id,
      resolution: outcome,
      context: history.length
    }))
    return buildTurn(context, response, at)
  }).pipe(Effect.provideService(RequestContext, RequestContext.of(context)))
}, trackSeconds(pipelineSeconds))
