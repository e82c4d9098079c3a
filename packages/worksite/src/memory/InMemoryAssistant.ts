import { InMemoryEngine } from "@parley/core/memory"
import { Layer } from "effect"
import { RuleIntentClassifier } from "../understanding/IntentClassifier.ts"
import { WorksiteAssistant } from "../WorksiteAssistant.ts"
import { demoData, InMemoryWorksite, type WorksiteData } from "./InMemoryWorksite.ts"

/**
 * The engine and the worksite assistant, every port in memory, with the rule
 * classifier: what tests and demos run the assistant on. Add a `Messenger`
 * to send replies.
 */
export const InMemoryAssistant = (data: WorksiteData = demoData) =>
  Layer.mergeAll(WorksiteAssistant.layer.pipe(Layer.provideMerge(RuleIntentClassifier)), InMemoryEngine).pipe(
    Layer.provideMerge(InMemoryWorksite(data))
  )
