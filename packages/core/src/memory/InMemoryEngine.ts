import { Layer } from "effect"
import { InMemoryHandoff } from "./InMemoryHandoff.ts"
import { InMemoryMessagingLayer } from "./InMemoryMessaging.ts"
import { InMemorySessionStore } from "./InMemorySessionStore.ts"

/**
 * Every store the engine needs, in memory: sessions, the conversation log,
 * the inbox, the outbox and handoffs. Still to provide: an `Assistant`, a
 * `Directory` and a `Messenger` (what the embedder brings).
 */
export const InMemoryEngine = Layer.mergeAll(InMemoryMessagingLayer, InMemoryHandoff).pipe(Layer.provideMerge(InMemorySessionStore))
