import { Assistant, type AssistantResponse, type RequestContext } from "@parley/core"
import { Effect, Layer } from "effect"
import { notRegistered } from "./copy/Copy.ts"
import type { Worksite } from "./domain/Worksite.ts"
import { decide } from "./flows/decide.ts"
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
      state: decision.intent === undefined ? undefined : { intent: decision.intent },
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
  /** The assistant as the engine's `Assistant`; it needs a `Worksite` and an `IntentClassifier`. */
  layer: Assistant.layer<WorksiteState, Worksite | IntentClassifier | RequestContext>({
    state: WorksiteState,
    stages: ["decide", "run_tool"],
    respond,
    // We do not know their language, so both.
    unknownSender: () => Effect.succeed([{ _tag: "TextReply", body: notRegistered }])
  }) satisfies Layer.Layer<Assistant, never, Worksite | IntentClassifier>
}
