import { Effect, Layer } from "effect"
import { Handoff, logHandoff, type HandoffRequest } from "../escalation/Handoff.ts"
import type { SessionId } from "../identity/Ids.ts"

/** `Handoff` in process memory: one request per session, kept in the order first requested, as the Postgres table's primary key keeps them. */
export const makeInMemoryHandoff = Effect.sync(() => {
  const handoffs = new Map<SessionId, HandoffRequest>()
  return Handoff.of({
    notify: (request) =>
      Effect.suspend(() => {
        if (handoffs.has(request.sessionId)) return Effect.void
        handoffs.set(request.sessionId, request)
        return logHandoff(request)
      }),
    list: (limit) => Effect.sync(() => [...handoffs.values()].slice(-limit).reverse())
  })
})

export const InMemoryHandoff: Layer.Layer<Handoff> = Layer.effect(Handoff, makeInMemoryHandoff)
