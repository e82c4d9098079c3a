import { resolveSession, UserId } from "@parley/core"
import { InMemoryMessagingLayer, InMemorySessionStore } from "@parley/core/memory"
import { outboxContract } from "@parley/core/testing"
import { Effect, Layer } from "effect"

outboxContract("in-memory", {
  layer: InMemoryMessagingLayer.pipe(Layer.provideMerge(InMemorySessionStore)),
  newSession: Effect.map(Effect.suspend(() => resolveSession(UserId.make(crypto.randomUUID()))), (r) => r.session.id)
})
