import { Schema } from "effect"
import { foldText } from "../understanding/foldText.ts"
import { actionOfIntent, actionOfOption, pageKinds, type Action } from "./Action.ts"
import { intentOfMenuButton } from "../understanding/Intent.ts"
import { Reply } from "@parley/core"
import type { ToolOutput, WorksiteMessage } from "../WorksiteState.ts"

export interface DirectActionHit {
  readonly _tag: "Hit"
  readonly action: Action
  readonly tool: string
}
export interface DirectActionMiss {
  readonly _tag: "Miss"
  readonly tool: string
}

const outputsNewestFirst = (history: ReadonlyArray<WorksiteMessage>): ReadonlyArray<ToolOutput> =>
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
  history: ReadonlyArray<WorksiteMessage>,
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

/** The assistant's last message, and what it showed: free text refers to that, not to an older list. */
const latest = (history: ReadonlyArray<WorksiteMessage>) => {
  const message = history.find((m) => m.direction === "outbound")
  return { output: message?.metadata.toolOutputs?.[0], reply: message?.metadata.reply }
}

const isReply = Schema.is(Reply)

/**
 * The options of a reply in the order the user saw them. Twilio renders
 * buttons and rows as "1. …", "2. …" by position, and a detail whose first
 * button is hidden shows `option_2` as "1", so a typed number is a position,
 * not an id suffix. The stored reply keeps that order (the tool output's map
 * may not: jsonb reorders keys).
 */
const shownOptions = (reply: unknown): ReadonlyArray<{ readonly id: string; readonly title: string }> | undefined => {
  if (!isReply(reply)) return undefined
  switch (reply._tag) {
    case "ButtonsReply":
      return reply.buttons
    case "ListReplyMessage":
      return reply.sections.flatMap((s) => s.rows)
    case "TextReply":
      return []
  }
}

/**
 * Free text typed after a list or buttons — "2", "Champigny", "Voir mes
 * chantiers" — resolved like a tap on what the assistant's last message
 * showed: an older list is not what "2" refers to. Menu buttons resolve by
 * their id; the others against the message's tool output.
 */
export const resolveTypedChoice = (history: ReadonlyArray<WorksiteMessage>, text: string): DirectActionHit | undefined => {
  const { output, reply } = latest(history)
  const folded = foldText(text)
  const shown = shownOptions(reply) ??
    Object.entries(output?.options ?? {}).map(([id, option]) => ({ id, title: option.label }))
  const chosen = (/^\d+$/.test(folded) ? shown[Number(folded) - 1] : undefined) ?? shown.find((o) => foldText(o.title) === folded)
  if (chosen === undefined) return undefined
  const menuIntent = intentOfMenuButton(chosen.id)
  if (menuIntent !== undefined) return { _tag: "Hit", action: actionOfIntent(menuIntent), tool: "menu" }
  return output && hit(output, chosen.id)
}

/**
 * Where "more" or "back" leads from the list last shown: its next page (the
 * "More…" row), or its `back` (one level up, or the previous page). Undefined
 * when the last message has no such thing: the words are then not follow-ups.
 */
export const resolveFollowUp = (history: ReadonlyArray<WorksiteMessage>, intent: "more" | "back"): DirectActionHit | undefined => {
  const { output } = latest(history)
  if (output === undefined) return undefined
  if (intent === "back") {
    const action = output.back && actionOfOption(output.back.kind, output.back.id)
    return action && { _tag: "Hit", action, tool: output.tool }
  }
  const next = Object.entries(output.options).find(([, option]) => pageKinds.has(option.kind))
  return next && hit(output, next[0])
}
