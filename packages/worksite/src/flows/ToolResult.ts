import type { Reply } from "@parley/core"
import type { ToolOutput, WorksiteState } from "../WorksiteState.ts"

/** One reply of a tool, with what must be remembered with it for the next message to resolve against. */
export interface ToolReply {
  readonly reply: Reply
  readonly toolOutput?: ToolOutput | undefined
  readonly awaiting?: WorksiteState["awaiting"]
}

export interface ToolResult {
  readonly tool: string
  readonly replies: ReadonlyArray<ToolReply>
  /** The session ends for the bot: it becomes `escalated` and a human is told (by the engine). */
  readonly escalate?: boolean
}
