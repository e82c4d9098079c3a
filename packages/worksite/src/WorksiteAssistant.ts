import { Assistant, type AssistantResponse, type Directory, type RequestContext } from "@parley/core"
import { Effect, Layer } from "effect"
import { notRegistered } from "./copy/Copy.ts"
import type { Worksite } from "./domain/Worksite.ts"
import { decide, expectsReply } from "./flows/decide.ts"
import { runTool } from "./flows/tools.ts"
import type { IntentClassifier } from "./understanding/IntentClassifier.ts"
import { WorksiteState, type WorksiteMessage } from "./WorksiteState.ts"

/**
 * The worksite assistant: subcontractors see their sites and tasks, mark a
 * task done, report a problem (words and photos) and ask for a human, in
 * French or English, by taps or typed text.
 *
 * `decide` chooses the action from the message and the session's recent
 * messages (taps resolve against the tool outputs stored with earlier
 * replies); `run_tool` runs it against the `Worksite`. Both are pipeline
 * stages of their own. What it remembers per message is `WorksiteState`.
 */
export const respond = (request: { readonly recent: ReadonlyArray<WorksiteMessage> }) =>
  Effect.gen(function*() {
    const decision = yield* Assistant.stage("decide", decide(request.recent))
    const result = yield* Assistant.stage("run_tool", runTool(decision.action))
    return {
      // The action an inbound message led to: an edit may redo a message's answer only if that changed nothing.
      state: { action: decision.action._tag, ...(decision.intent === undefined ? {} : { intent: decision.intent }) },
      replies: result.replies.map((r) => ({
        reply: r.reply,
        state: {
          ...(r.toolOutput === undefined ? {} : { toolOutputs: [r.toolOutput] }),
          ...(r.awaiting === undefined ? {} : { awaiting: r.awaiting })
        }
      })),
      escalate: result.escalate === true ? { reason: "asked for a human" } : undefined,
      label: { via: decision.via, action: decision.action._tag, tool: result.tool }
    } satisfies AssistantResponse<WorksiteState>
  })

export const WorksiteAssistant = {
  /** The assistant as the engine's `Assistant`; it needs a `Worksite`, an `IntentClassifier` and the `Directory` (a number change updates it). */
  layer: Assistant.layer<WorksiteState, Worksite | IntentClassifier | Directory | RequestContext>({
    state: WorksiteState,
    stages: ["decide", "run_tool"],
    respond,
    // We do not know their language, so both. A reaction, a deletion or a group message from a stranger is no request: nothing is said.
    unknownSender: (inbound) => Effect.succeed(expectsReply(inbound) ? [{ _tag: "TextReply", body: notRegistered }] : [])
  }) satisfies Layer.Layer<Assistant, never, Worksite | IntentClassifier | Directory>
}
