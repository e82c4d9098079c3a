import { Effect } from "effect"
import { actionOfIntent, type Action } from "./Action.ts"
import { resolveFollowUp, resolveTap, resolveTypedChoice } from "./directAction.ts"
import { intentOfMenuButton, type Intent } from "../understanding/Intent.ts"
import { IntentClassifier, type Slots } from "../understanding/IntentClassifier.ts"
import { count, type InboundMessage, type MessageContent, recordedMessages, RequestContext } from "@parley/core"
import { classifications, directActions, emptyContextTaps } from "../WorksiteMetrics.ts"
import type { WorksiteMessage } from "../WorksiteState.ts"
import type { ProjectId } from "../domain/Worksite.ts"

export interface Decision {
  readonly action: Action
  readonly via: "menu" | "direct_action" | "follow_up" | "classifier" | "unsupported" | "record" | "correction" | "directory"
  readonly intent?: Intent | undefined
}

/**
 * The action of a classified sentence: its slots narrow the intent to what
 * the menu would reach in two or three taps ("the tasks at Champigny" is the
 * list of sites, then Champigny). Only the actions a tap could run come out,
 * and the tools check every id against the user's assignments again.
 */
export const actionOfClassification = (intent: Intent, slots: Slots | undefined): Action => {
  if (intent === "view_sites" && slots?.taskId !== undefined) return { _tag: "TaskDetail", taskId: slots.taskId }
  if (intent === "view_sites" && slots?.projectId !== undefined) return { _tag: "ListTasks", projectId: slots.projectId, page: 1 }
  if (intent === "report_problem" && slots?.projectId !== undefined) {
    return slots.problem !== undefined && slots.problem.trim() !== ""
      ? { _tag: "RecordIncident", projectId: slots.projectId, description: slots.problem }
      : { _tag: "AskProblemDescription", projectId: slots.projectId }
  }
  return actionOfIntent(intent)
}

/**
 * The question the assistant asked last, if the user is answering it now:
 * `problem_description` (id: the project), then `problem_photo` or
 * `problem_details` (id: the incident the report recorded).
 */
const awaiting = (history: ReadonlyArray<WorksiteMessage>) =>
  history.find((m) => m.direction === "outbound")?.metadata.awaiting

// Ours are snake_case (`menu_view_sites`, `option_3`); a client may send anything, a phone number included.
const ownOptionId = /^[a-z][a-z0-9_]{0,63}$/
const loggableOptionId = (id: string) => (ownOptionId.test(id) ? id : `not one of ours (${id.length} characters)`)

const record = (what: Extract<Action, { _tag: "Record" }>["what"]): Decision => ({ action: { _tag: "Record", what }, via: "record" })

/** Actions that changed something: an edit of the message that led to one is recorded, not acted on again. */
const writes: ReadonlySet<string> = new Set<Action["_tag"]>([
  "RecordIncident",
  "AttachIncidentPhoto",
  "DescribeIncident",
  "MarkDone",
  "Escalate",
  "UpdateIdentity"
])

/**
 * What is not a request gets no answer: a reaction or its removal, a
 * deletion, an edit (it is answered only as the correction of a message, by
 * `decide`), a notice about the account, and anything posted in a group —
 * the assistant answers one person at a time, privately, and a reply to a
 * group message would go to the sender alone. Used for unknown senders too.
 */
export const expectsReply = (inbound: InboundMessage): boolean => {
  if (inbound.group !== undefined) return false
  switch (inbound.content._tag) {
    case "Reaction":
    case "Deleted":
    case "Edited":
    case "SystemNotice":
      return false
    default:
      return true
  }
}

/**
 * An edit of the user's last message, while its answer changed nothing
 * (the menu, a list, the help text): the edited text is decided again
 * against the history as it was before the message, as if it had been sent
 * that way. Otherwise — an older message, a media caption, a message that
 * recorded an incident or marked a task done — the edit is only recorded.
 */
const correction = (history: ReadonlyArray<WorksiteMessage>, edited: Extract<MessageContent, { _tag: "Edited" }>) => {
  if (edited.content?._tag !== "Text") return undefined
  const original = history.findIndex((m) => m.direction === "inbound" && m.providerMessageId === edited.messageId)
  if (original === -1) return undefined
  const answered = history.slice(0, original + 1).filter((m) => m.direction === "inbound")
  // Only earlier edits of the same message may have come since; each of their answers must have changed nothing too.
  const sameMessage = answered.every((m) =>
    m.providerMessageId === edited.messageId || (m.metadata.received?._tag === "Edited" && m.metadata.received.messageId === edited.messageId)
  )
  if (!sameMessage || answered.some((m) => writes.has(m.metadata.action ?? ""))) return undefined
  return { text: edited.content, before: history.slice(original + 1) }
}

/**
 * Chooses the action for the inbound message, using the session's recent
 * messages (newest first): taps resolve against stored tool outputs, answers
 * to a question go to it, typed choices after a list or the menu resolve like
 * taps, and only the rest is classified. What needs no answer (see
 * `expectsReply`) is recorded; a number change goes to the directory.
 */
export const decide = Effect.fn("decide")(function*(history: ReadonlyArray<WorksiteMessage>) {
  const { inbound } = yield* RequestContext
  const decision = inbound.group !== undefined ? record("group") : yield* decideContent(inbound.content, history)
  if (decision.action._tag === "Record") yield* count(recordedMessages, { what: decision.action.what })
  return decision
})

const decideContent = (content: MessageContent, history: ReadonlyArray<WorksiteMessage>): Effect.Effect<Decision, never, RequestContext | IntentClassifier> =>
  Effect.gen(function*() {
  const { user } = yield* RequestContext
  const question = awaiting(history)
  switch (content._tag) {
    case "ButtonReply":
    case "ListReply": {
      const menuIntent = intentOfMenuButton(content.id)
      if (menuIntent !== undefined) return { action: actionOfIntent(menuIntent), via: "menu", intent: menuIntent } satisfies Decision
      if (history.length === 0) yield* count(emptyContextTaps, {})
      const resolved = resolveTap(history, content.id, content.title)
      yield* count(directActions, { tool: resolved.tool, result: resolved._tag === "Hit" ? "hit" : "miss" })
      yield* Effect.logInfo("direct action").pipe(Effect.annotateLogs({
        event: "pipeline.direct_action",
        result: resolved._tag === "Hit" ? "hit" : "miss",
        tool: resolved.tool,
        optionId: loggableOptionId(content.id),
        searched: history.length
      }))
      return resolved._tag === "Hit"
        ? { action: resolved.action, via: "direct_action" } satisfies Decision
        : { action: { _tag: "Expired" }, via: "direct_action" } satisfies Decision
    }
    case "Text": {
      if (question?.kind === "problem_description") {
        return {
          action: { _tag: "RecordIncident", projectId: question.id as ProjectId, description: content.body },
          via: "follow_up"
        } satisfies Decision
      }
      if (question?.kind === "problem_details") {
        return { action: { _tag: "DescribeIncident", incidentId: question.id, description: content.body }, via: "follow_up" } satisfies Decision
      }
      const typed = resolveTypedChoice(history, content.body)
      if (typed !== undefined) {
        yield* count(directActions, { tool: typed.tool, result: "hit" })
        return { action: typed.action, via: "direct_action" } satisfies Decision
      }
      const classifier = yield* IntentClassifier
      const { intent, slots } = yield* classifier.classify(content.body, history, user)
      yield* count(classifications, { intent })
      if (intent === "more" || intent === "back") {
        const followed = resolveFollowUp(history, intent)
        if (followed !== undefined) return { action: followed.action, via: "follow_up", intent } satisfies Decision
      }
      // A photo is expected: text that is no request of its own gets a reminder, not the help text.
      if (question?.kind === "problem_photo" && intent === "unknown") {
        return { action: { _tag: "AskIncidentPhoto", incidentId: question.id, reminder: true }, via: "follow_up", intent } satisfies Decision
      }
      return { action: actionOfClassification(intent, slots), via: "classifier", intent } satisfies Decision
    }
    case "Media": {
      if (question?.kind === "problem_description") {
        return {
          action: {
            _tag: "RecordIncident",
            projectId: question.id as ProjectId,
            description: content.caption?.trim() ?? "",
            photoRef: content.ref
          },
          via: "follow_up"
        } satisfies Decision
      }
      if (question?.kind === "problem_photo" || question?.kind === "problem_details") {
        return {
          action: { _tag: "AttachIncidentPhoto", incidentId: question.id, photoRef: content.ref, caption: content.caption?.trim() },
          via: "follow_up"
        } satisfies Decision
      }
      return { action: { _tag: "Unsupported" }, via: "unsupported" } satisfies Decision
    }
    case "Reaction":
      return record("reaction")
    case "Deleted":
      return record("deletion")
    case "Edited": {
      const corrected = correction(history, content)
      if (corrected === undefined) return record("edit")
      return { ...(yield* decideContent(corrected.text, corrected.before)), via: "correction" } satisfies Decision
    }
    case "SystemNotice":
      return content.newPhone !== undefined || content.newUserId !== undefined
        ? { action: { _tag: "UpdateIdentity", phone: content.newPhone, userId: content.newUserId }, via: "directory" } satisfies Decision
        : record("notice")
    // A location, contact cards or an order ask for something the assistant cannot do: it says so (their data is kept).
    case "Location":
    case "Contacts":
    case "Order":
    case "Unsupported":
      return { action: { _tag: "Unsupported" }, via: "unsupported" } satisfies Decision
  }
  })
