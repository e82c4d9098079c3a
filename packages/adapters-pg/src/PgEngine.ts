import { RuleIntentClassifier } from "@parley/core"
import { Layer } from "effect"
import { PgMessageStore } from "./PgMessageStore.ts"
import { PgMessaging } from "./PgMessaging.ts"
import { PgSessionStore } from "./PgSessionStore.ts"
import { PgWorksite } from "../../worksite/src/pg/PgWorksite.ts"

/** Every port of the pipeline on Postgres, with the rule classifier. Add a `Messenger` and a `PgClient`. */
export const PgAssistant = Layer.mergeAll(PgSessionStore, PgMessageStore, PgWorksite, PgMessaging, RuleIntentClassifier)

export type PgAssistantServices = Layer.Success<typeof PgAssistant>
