/** @parley/worksite/testing: the worksite's scenario helpers and its script for the engine's conversation property. */
export { incidentSummaries, startReport } from "./chat.ts"
export { SlowRuleClassifier, worksiteScript } from "./WorksiteScript.ts"
