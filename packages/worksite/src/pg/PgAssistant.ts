import { PgEngine } from "@parley/adapters-pg"
import { Layer } from "effect"
import { RuleIntentClassifier } from "../understanding/IntentClassifier.ts"
import { WorksiteAssistant } from "../WorksiteAssistant.ts"
import { PgWorksite } from "./PgWorksite.ts"

/** The engine's stores and the worksite assistant on Postgres, with the rule classifier. Add a `Messenger` and a `PgClient`. */
export const PgAssistant = Layer.mergeAll(
  WorksiteAssistant.layer.pipe(Layer.provide(RuleIntentClassifier), Layer.provideMerge(PgWorksite)),
  RuleIntentClassifier,
  PgEngine
)

export type PgAssistantServices = Layer.Success<typeof PgAssistant>
