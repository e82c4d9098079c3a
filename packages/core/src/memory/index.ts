/**
 * @parley/core/memory: every engine port in process memory, for tests, demos
 * and embedders that need no database. `InMemoryEngine` bundles the stores;
 * add an `Assistant`, a `Directory` (`InMemoryDirectory`) and a `Messenger`.
 */
export { InMemoryEngine } from "./InMemoryEngine.ts"
export { InMemorySessionStore } from "./InMemorySessionStore.ts"
export { InMemoryMessaging, InMemoryMessagingLayer, type InMemoryMessagingSnapshot, makeInMemoryMessaging } from "./InMemoryMessaging.ts"
export { InMemoryHandoff } from "./InMemoryHandoff.ts"
export { InMemoryDirectory, makeInMemoryDirectory, type WithIdentity } from "./InMemoryDirectory.ts"
