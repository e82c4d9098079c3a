import { Layer } from "effect"
import { PgDirectory } from "./PgDirectory.ts"
import { PgMessageStore } from "./PgMessageStore.ts"
import { PgMessaging } from "./PgMessaging.ts"
import { PgSessionStore } from "./PgSessionStore.ts"

/**
 * Every store the engine needs, on Postgres: sessions, the conversation log,
 * inbox, outbox, handoffs and the users (`PgDirectory`). Add a `PgClient`,
 * an `Assistant` and a `Messenger`.
 */
export const PgEngine = Layer.mergeAll(PgSessionStore, PgMessageStore, PgMessaging, PgDirectory)

export type PgEngineServices = Layer.Success<typeof PgEngine>
