import { foldText } from "./foldText.ts"
import { actionOfOption, type Action } from "./Action.ts"
import type { StoredMessage, ToolOutput } from "./StoredMessage.ts"

export interface DirectActionHit {
  readonly _tag: "Hit"
  readonly action: Action
  readonly tool: string
}
export interface DirectActionMiss {
  readonly _tag: "Miss"
  readonly tool: string
}

const outputsNewestFirst = (history: ReadonlyArray<StoredMessage>): ReadonlyArray<ToolOutput> =>
  history.filter((m) => m.direction === "outbound").flatMap((m) => [...(m.metadata.toolOutputs ?? [])].reverse())

const hit = (output: ToolOutput, optionId: string): DirectActionHit | undefined => {
  const option = output.options[optionId]
  const action = option && actionOfOption(option.kind, option.id)
  return action && { _tag: "Hit", action, tool: output.tool }
}

/**
 * A tap on a button or list row, resolved against the tool outputs stored in
 * this session's recent messages (newest first). Row ids repeat across lists
 * (`option_1`…), so when the tapped title is known the newest output whose
 * option has that label wins; otherwise the newest output with that id.
 */
export const resolveTap = (
  history: ReadonlyArray<StoredMessage>,
  optionId: string,
  title: string | undefined
): DirectActionHit | DirectActionMiss => {
  const outputs = outputsNewestFirst(history)
  const withId = outputs.filter((o) => o.options[optionId] !== undefined)
  const labelled = title === undefined ? undefined : withId.find((o) => o.options[optionId]?.label === title)
  const found = labelled ?? withId[0]
  return (found && hit(found, optionId)) ?? { _tag: "Miss", tool: toolOfOptionId(optionId) }
}

/** The tool that would have produced an option id, for the miss metric (a missed tap has no stored output to ask). */
const toolOfOptionId = (optionId: string): string => (optionId.startsWith("option_") ? "list" : "unknown")

/**
 * Free text typed after a list — "2", "Champigny" — resolved against the most
 * recent tool output only: an old list is not what "2" refers to.
 */
export const resolveTypedChoice = (history: ReadonlyArray<StoredMessage>, text: string): DirectActionHit | undefined => {
  const latest = history.find((m) => m.direction === "outbound")
  const output = latest?.metadata.toolOutputs?.[0]
  if (output === undefined) return undefined
  const folded = foldText(text)
  const entries = Object.entries(output.options)
  const byNumber = /^\d+$/.test(folded) ? entries.find(([id]) => id === `option_${folded}`) : undefined
  const byLabel = entries.find(([, option]) => foldText(option.label) === folded)
  const chosen = byNumber ?? byLabel
  return chosen && hit(output, chosen[0])
}
