/**
 * @parley/worksite: the seed's assistant, one plug-in of `@parley/core`.
 * Subcontractors see their sites and tasks, mark tasks done, report problems
 * with photos and ask for a human, in French or English. It uses only
 * `@parley/core`'s public API, as any embedder's assistant would.
 */
export { WorksiteAssistant } from "./WorksiteAssistant.ts"
export { ToolOutput, type WorksiteMessage, WorksiteState } from "./WorksiteState.ts"
export { classifications, directActions, emptyContextTaps } from "./WorksiteMetrics.ts"

// The domain and its port.
export {
  Incident,
  Locale,
  localeOf,
  type NewIncident,
  type NewIncidentPhoto,
  Project,
  ProjectId,
  Subcontractor,
  Task,
  TaskId,
  TaskStatus,
  Worksite
} from "./domain/Worksite.ts"
export { demoAssignments, demoProjects, demoSubcontractors, demoTasks } from "./domain/DemoData.ts"

// Understanding free text.
export { Intent, intentOfMenuButton, menuButtonIds } from "./understanding/Intent.ts"
export { type Classification, classifyByRules, IntentClassifier, RuleIntentClassifier, type Slots } from "./understanding/IntentClassifier.ts"
export { foldText } from "./understanding/foldText.ts"

// The flows: decide an action, run its tool.
export { type Action, actionOfIntent, actionOfOption, type OptionKind } from "./flows/Action.ts"
export { actionOfClassification, type Decision, decide, expectsReply } from "./flows/decide.ts"
export { type DirectActionHit, type DirectActionMiss, resolveFollowUp, resolveTap, resolveTypedChoice } from "./flows/directAction.ts"
export { pageSize, runTool } from "./flows/tools.ts"
export type { ToolReply, ToolResult } from "./flows/ToolResult.ts"
export { copy, type Copy, notRegistered } from "./copy/Copy.ts"

// In memory: the demo company and everything to run the assistant without a database.
export { demoData, InMemoryWorksite, makeInMemoryWorksite, type WorksiteData } from "./memory/InMemoryWorksite.ts"
export { InMemoryAssistant } from "./memory/InMemoryAssistant.ts"
