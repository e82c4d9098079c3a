import { PgEngine } from "@parley/adapters-pg"
import { Layer } from "effect"
import type { Worksite } from "../domain/Worksite.ts"
import { RuleIntentClassifier, type IntentClassifier } from "../understanding/IntentClassifier.ts"
import { WorksiteAssistant } from "../WorksiteAssistant.ts"
import { PgWorksite } from "./PgWorksite.ts"

/**
 * The engine's stores and the worksite assistant on Postgres, with the given
 * classifier (it may read the `Worksite`). Add a `Messenger` and a `PgClient`.
 */
export const pgAssistantWith = <E>(classifier: Layer.Layer<IntentClassifier, E, Worksite>) =>
  WorksiteAssistant.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(classifier.pipe(Layer.provideMerge(PgWorksite)), PgEngine))
  )

/** `pgAssistantWith` the rule classifier. */
export const PgAssistant = pgAssistantWith(RuleIntentClassifier)

export type PgAssistantServices = Layer.Success<typeof PgAssistant>
