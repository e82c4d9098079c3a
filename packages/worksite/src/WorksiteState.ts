import type { RecentMessage } from "@parley/core"
import { Schema } from "effect"

/**
 * A tool's output stored with its reply: what a later tap, typed number or
 * label resolves against (option id → the entity it stands for).
 */
export const ToolOutput = Schema.Struct({
  tool: Schema.String,
  /** Row / button id shown to the user → the entity it stands for. */
  options: Schema.Record(Schema.String, Schema.Struct({ kind: Schema.String, id: Schema.String, label: Schema.String })),
  /**
   * Where "back" (typed) leads from this output, as an option would: the list
   * one level up, or the previous page. Not a row: lists have no room for it.
   */
  back: Schema.optionalKey(Schema.Struct({ kind: Schema.String, id: Schema.String }))
})
export type ToolOutput = typeof ToolOutput.Type

/**
 * What the worksite assistant remembers per message, stored by the engine
 * beside its own metadata keys: the intent it classified and the action it
 * took (inbound), the tool
 * outputs a later tap resolves against and the question it is waiting an
 * answer to (outbound). Key names are the seed's, so stored conversations and
 * its monitoring SQL (`metadata ? 'toolOutputs'`) read as before.
 */
export const WorksiteState = Schema.Struct({
  intent: Schema.optionalKey(Schema.String),
  /** The action an inbound message led to: an edit may redo a message's answer only if that changed nothing. */
  action: Schema.optionalKey(Schema.String),
  toolOutputs: Schema.optionalKey(Schema.Array(ToolOutput)),
  /** The assistant asked a question and the next message answers it (e.g. a problem description for a project). */
  awaiting: Schema.optionalKey(Schema.Struct({ kind: Schema.String, id: Schema.String }))
})
export type WorksiteState = typeof WorksiteState.Type

/** A message of the session with the worksite's state decoded: what `decide` and the direct actions read. */
export type WorksiteMessage = RecentMessage<WorksiteState>
