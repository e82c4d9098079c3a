import { Clock, Effect, Metric, Option } from "effect"
import { decide, expectsReply, type Decision } from "./decide.ts"
import { notRegistered } from "./Copy.ts"
import { phoneOf, type InboundMessage, type MessageContent } from "./InboundMessage.ts"
import { Directory, type Subcontractor } from "./Worksite.ts"
import { MessageStore, type NewMessage, type StoredMessage } from "./StoredMessage.ts"
import { Outbox } from "./Outbox.ts"
import { contextMessages, pipelineSeconds, trackSeconds } from "./PipelineMetrics.ts"
import { maskAddress } from "./UserAddress.ts"
import type { Reply } from "./Reply.ts"
import { RequestContext } from "./RequestContext.ts"
import { resolveSession } from "./resolveSession.ts"
import { stage } from "./stage.ts"
import { runTool } from "./tools.ts"
import type { ToolResult } from "./ToolResult.ts"
import type { Turn } from "./Turn.ts"
import type { Session } from "./Session.ts"

/** How many of the session's latest messages the classifier and direct actions see. */
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

export const identify = (inbound: InboundMessage) =>
  stage("identify", Effect.gen(function*() {
    const directory = yield* Directory
    // Phone when the provider gives it, the business-scoped user id always: either finds a known user.
    return yield* directory.identify({ phone: phoneOf(inbound), userId: inbound.userId })
  }))

export const loadContext = (session: Session) =>
  stage("load_context", Effect.gen(function*() {
    const messages = yield* MessageStore
    const history = yield* messages.recent(session.id, contextSize)
    yield* Metric.update(contextMessages, history.length)
    yield* Effect.logInfo("context loaded").pipe(
      Effect.annotateLogs({ event: "pipeline.context_loaded", sessionId: session.id, messages: history.length })
    )
    return history
  }))

/** The turn to commit: the inbound and outbound messages, all in the request's one session, and the replies. */
export const buildTurn = (
  context: { readonly inbound: InboundMessage; readonly user: Subcontractor; readonly session: Session },
  decision: Decision,
  result: ToolResult,
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
      action: decision.action._tag,
      ...(decision.intent === undefined ? {} : { intent: decision.intent }),
      ...(summarised(content) ? { received: content } : {}),
      ...(inbound.group === undefined ? {} : { group: inbound.group }),
      ...(content._tag === "ButtonReply" || content._tag === "ListReply" ? { interactive: { id: content.id, title: content.title } } : {})
    },
    createdAt: at
  }
  const outbound = result.replies.map((r, i): NewMessage => ({
    sessionId: session.id,
    userId: user.id,
    direction: "outbound",
    content: describeReply(r.reply),
    metadata: {
      reply: r.reply,
      ...(r.toolOutput === undefined ? {} : { toolOutputs: [r.toolOutput] }),
      ...(r.awaiting === undefined ? {} : { awaiting: r.awaiting })
    },
    // Outbound messages sort after the inbound one that caused them, in their order.
    createdAt: at + i + 1
  }))
  return {
    sessionId: session.id,
    messages: [inboundMessage, ...outbound],
    // A known user is answered at their registered number, whichever id their message came with: Meta
    // recommends sending to phone numbers (they then keep appearing in webhooks), and one recipient per user
    // keeps the outbox's per-recipient order. A stranger is answered where they wrote from, BSUID or number.
    replies: result.replies.map((r, i) => ({ replyId: replyIdOf(inbound, i), to: user.phone, reply: r.reply, sessionId: session.id })),
    escalate: result.escalate === true,
    at
  }
}

/**
 * The pipeline for one inbound message: identify → resolve the session once →
 * (with the session carried in `RequestContext`) load context → decide →
 * run the tool → the turn to commit. It writes nothing itself except through
 * tools; the caller commits the turn atomically with the inbox entry.
 */
export const processMessage = Effect.fn("processMessage")(function*(inbound: InboundMessage) {
  const at = yield* Clock.currentTimeMillis
  const user = yield* identify(inbound)
  if (user === undefined) {
    yield* Effect.logInfo("unknown sender").pipe(Effect.annotateLogs({ event: "pipeline.unknown_sender", from: maskAddress(inbound.from) }))
    return {
      messages: [],
      // A reaction, a deletion or a group message from a stranger is no request: nothing is said.
      replies: expectsReply(inbound) ? [{ replyId: replyIdOf(inbound, 0), to: inbound.from, reply: { _tag: "TextReply", body: notRegistered } }] : [],
      escalate: false,
      at
    } satisfies Turn
  }
  const { session } = yield* stage("resolve_session", Effect.gen(function*() {
    // A tap answers one of our replies: it carries the session that reply was sent in.
    const carried = inbound.replyTo === undefined ? undefined : yield* (yield* Outbox).sessionOfSent(inbound.replyTo)
    return yield* resolveSession(user.id, Option.fromUndefinedOr(carried))
  }))
  const context = { inbound, user, session }
  return yield* Effect.gen(function*() {
    const history: ReadonlyArray<StoredMessage> = yield* loadContext(session)
    const decision = yield* stage("decide", decide(history))
    const result = yield* stage("run_tool", runTool(decision.action))
    yield* Effect.logInfo("message processed").pipe(Effect.annotateLogs({
      event: "pipeline.processed",
      via: decision.via,
      action: decision.action._tag,
      tool: result.tool,
      sessionId: session.id
    }))
    return buildTurn(context, decision, result, at)
  }).pipe(Effect.provideService(RequestContext, RequestContext.of(context)))
}, trackSeconds(pipelineSeconds))
