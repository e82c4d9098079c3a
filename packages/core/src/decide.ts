import { Effect } from "effect"
import type { Action } from "./Action.ts"
import { resolveTap, resolveTypedChoice } from "./directAction.ts"
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

const actionOfIntent = (intent: Intent): Action => {
  switch (intent) {
    case "greeting":
      return { _tag: "Menu" }
    case "view_sites":
      return { _tag: "ListProjects", page: 1 }
    case "report_problem":
      return { _tag: "AskProblemProject", page: 1 }
    case "talk_to_someone":
      return { _tag: "Escalate" }
    case "unknown":
      return { _tag: "Help" }
  }
}

/** The question the assistant asked last, if the user is answering it now. */
const awaiting = (history: ReadonlyArray<StoredMessage>) =>
  history.find((m) => m.direction === "outbound")?.metadata.awaiting

/**
 * Chooses the action for the inbound message, using the session's recent
 * messages (newest first): taps resolve against stored tool outputs, answers
 * to a question go to it, typed choices after a list resolve like taps, and
 * only the rest is classified.
 */
export const decide = Effect.fn("stage.decide")(function*(history: ReadonlyArray<StoredMessage>) {
  const { inbound } = yield* RequestContext
  const content = inbound.content
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
        optionId: content.id,
        searched: history.length
      }))
      return resolved._tag === "Hit"
        ? { action: resolved.action, via: "direct_action" } satisfies Decision
        : { action: { _tag: "Expired" }, via: "direct_action" } satisfies Decision
    }
    case "Text": {
      const question = awaiting(history)
      if (question?.kind === "problem_description") {
        return {
          action: { _tag: "RecordIncident", projectId: question.id as ProjectId, description: content.body },
          via: "follow_up"
        } satisfies Decision
      }
      const typed = resolveTypedChoice(history, content.body)
      if (typed !== undefined) {
        yield* count(directActions, { tool: typed.tool, result: "hit" })
        return { action: typed.action, via: "direct_action" } satisfies Decision
      }
      const classifier = yield* IntentClassifier
      const { intent } = yield* classifier.classify(content.body, history, (yield* RequestContext).user.locale)
      yield* count(classifications, { intent })
      return { action: actionOfIntent(intent), via: "classifier", intent } satisfies Decision
    }
    case "Media": {
      const question = awaiting(history)
      if (question?.kind === "problem_description") {
        return {
          action: { _tag: "RecordIncident", projectId: question.id as ProjectId, description: content.caption ?? "", photoRef: content.ref },
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
