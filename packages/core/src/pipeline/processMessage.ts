import { Clock, Effect, Metric, Option } from "effect"
import { decide, type Decision } from "../../../worksite/src/flows/decide.ts"
import { notRegistered } from "../../../worksite/src/copy/Copy.ts"
import type { InboundMessage, MessageContent } from "../channel/InboundMessage.ts"
import { Directory, type Subcontractor } from "../../../worksite/src/domain/Worksite.ts"
import { MessageStore, type NewMessage, type StoredMessage } from "../conversation/StoredMessage.ts"
import { Outbox } from "../delivery/Outbox.ts"
import { contextMessages, pipelineSeconds, trackSeconds } from "./PipelineMetrics.ts"
import { maskPhone } from "../channel/PhoneNumber.ts"
import type { Reply } from "../channel/Reply.ts"
import { RequestContext } from "./RequestContext.ts"
import { resolveSession } from "../session/resolveSession.ts"
import { stage } from "./stage.ts"
import { runTool } from "../../../worksite/src/flows/tools.ts"
import type { ToolResult } from "../../../worksite/src/flows/ToolResult.ts"
import type { Turn } from "../conversation/Turn.ts"
import type { Session } from "../session/Session.ts"

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
    case "Unsupported":
      return `[${content.type}]`
  }
}

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
    return yield* directory.byPhone(inbound.from)
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
      ...(decision.intent === undefined ? {} : { intent: decision.intent }),
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
    replies: result.replies.map((r, i) => ({ replyId: replyIdOf(inbound, i), to: inbound.from, reply: r.reply, sessionId: session.id })),
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
    yield* Effect.logInfo("unknown sender").pipe(Effect.annotateLogs({ event: "pipeline.unknown_sender", from: maskPhone(inbound.from) }))
    return {
      messages: [],
      replies: [{ replyId: replyIdOf(inbound, 0), to: inbound.from, reply: { _tag: "TextReply", body: notRegistered } }],
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
