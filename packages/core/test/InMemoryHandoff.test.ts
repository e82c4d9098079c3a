import { resolveSession, UserId } from "@parley/core"
import { InMemoryHandoff, InMemorySessionStore } from "@parley/core/memory"
import { handoffContract } from "@parley/core/testing"
import { Effect, Layer } from "effect"

handoffContract("in-memory", {
  layer: Layer.merge(InMemoryHandoff, InMemorySessionStore),
  newSession: Effect.map(Effect.suspend(() => resolveSession(UserId.make(crypto.randomUUID()))), ({ session }) => ({ userId: session.userId, sessionId: session.id }))
})
