import { Effect } from "effect"
import { actionOfIntent, type Action } from "./Action.ts"
import { resolveFollowUp, resolveTap, resolveTypedChoice } from "./directAction.ts"
import { intentOfMenuButton, type Intent } from "./Intent.ts"
import { IntentClassifier } from "./IntentClassifier.ts"
import { classifications, count, directActions, emptyContextTaps } from "./PipelineMetrics.ts"
import { RequestContext } from "./RequestContext.ts"
import type { StoredMessage } from "./StoredMessage.ts"
import type { ProjectId } from "./Worksite.ts"

export interface Decision {
  readonly action: Action
  readonly via: "menu" | "direct_action" | "follow_up" | "classifier" | "unsupported"
  readonly intent?: Intent | undefined
}

/**
 * The question the assistant asked last, if the user is answering it now:
 * `problem_description` (id: the project), then `problem_photo` or
 * `problem_details` (id: the incident the report recorded).
 */
const awaiting = (history: ReadonlyArray<StoredMessage>) =>
  history.find((m) => m.direction === "outbound")?.metadata.awaiting

// Ours are snake_case (`menu_view_sites`, `option_3`); a client may send anything, a phone number included.
const ownOptionId = /^[a-z][a-z0-9_]{0,63}$/
const loggableOptionId = (id: string) => (ownOptionId.test(id) ? id : `not one of ours (${id.length} characters)`)

/**
 * Chooses the action for the inbound message, using the session's recent
 * messages (newest first): taps resolve against stored tool outputs, answers
 * to a question go to it, typed choices after a list or the menu resolve like
 * taps, and only the rest is classified.
 */
export const decide = Effect.fn("decide")(function*(history: ReadonlyArray<StoredMessage>) {
  const { inbound, user } = yield* RequestContext
  const content = inbound.content
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
      const { intent } = yield* classifier.classify(content.body, history, user.locale)
      yield* count(classifications, { intent })
      if (intent === "more" || intent === "back") {
        const followed = resolveFollowUp(history, intent)
        if (followed !== undefined) return { action: followed.action, via: "follow_up", intent } satisfies Decision
      }
      // A photo is expected: text that is no request of its own gets a reminder, not the help text.
      if (question?.kind === "problem_photo" && intent === "unknown") {
        return { action: { _tag: "AskIncidentPhoto", incidentId: question.id, reminder: true }, via: "follow_up", intent } satisfies Decision
      }
      return { action: actionOfIntent(intent), via: "classifier", intent } satisfies Decision
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
    case "Location":
    case "Unsupported":
      return { action: { _tag: "Unsupported" }, via: "unsupported" } satisfies Decision
  }
})
