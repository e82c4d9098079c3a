import { Layer } from "effect"
import { InMemoryMessagingLayer } from "../../../core/src/memory/InMemoryMessaging.ts"
import { InMemorySessionStore } from "../../../core/src/memory/InMemorySessionStore.ts"
import { demoData, InMemoryWorksite, type WorksiteData } from "./InMemoryWorksite.ts"
import { RuleIntentClassifier } from "../understanding/IntentClassifier.ts"

/**
 * Every port the pipeline needs, in memory, with the rule classifier: what
 * tests and embedders run the assistant on. Add a `Messenger` to send replies.
 */
export const InMemoryAssistant = (data: WorksiteData = demoData) =>
  Layer.mergeAll(InMemoryMessagingLayer, InMemoryWorksite(data), RuleIntentClassifier).pipe(
    Layer.provideMerge(InMemorySessionStore)
  )
