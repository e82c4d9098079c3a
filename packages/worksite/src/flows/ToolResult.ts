import type { Reply } from "../../../core/src/channel/Reply.ts"
import type { MessageMetadata, ToolOutput } from "../../../core/src/conversation/StoredMessage.ts"

/** One reply of a tool, with what must be remembered with it for the next message to resolve against. */
export interface ToolReply {
  readonly reply: Reply
  readonly toolOutput?: ToolOutput | undefined
  readonly awaiting?: MessageMetadata["awaiting"]
}

export interface ToolResult {
  readonly tool: string
  readonly replies: ReadonlyArray<ToolReply>
  /** The session ends for the bot: it becomes `escalated`. */
  readonly escalate?: boolean
}
