// The README's "Contract suites" example, verbatim: another project's store,
// run through the suite with nothing but the package's public entry points.
import { Effect, Layer, Semaphore } from "effect"
import { newSessionId, Session, SessionNotActive, SessionNotFound, SessionStore, type SessionId } from "@parley/core"
import { sessionStoreContract } from "@parley/core/testing"

/** A store of your own: sessions in a Map, every write behind one lock. */
const MapSessionStore = Layer.effect(SessionStore, Effect.gen(function*() {
  const sessions = new Map<SessionId, Session>()
  const lock = yield* Semaphore.make(1)
  const save = (s: Session) => (sessions.set(s.id, s), s)
  const find = (id: SessionId) =>
    Effect.suspend(() => {
      const s = sessions.get(id)
      return s === undefined ? Effect.fail(new SessionNotFound({ sessionId: id })) : Effect.succeed(s)
    })
  const active = (id: SessionId) =>
    Effect.filterOrFail(find(id), (s) => s.isActive, (s) => new SessionNotActive({ sessionId: id, status: s.status }))
  return SessionStore.of({
    findById: find,
    listByUser: (userId) => Effect.sync(() => [...sessions.values()].filter((s) => s.userId === userId).reverse()),
    touch: (id, now) => lock.withPermit(Effect.map(active(id), (s) => save(s.touched(now)))),
    end: (id, reason, now) => lock.withPermit(Effect.map(active(id), (s) => save(s.finish("ended", reason, now)))),
    escalate: (id, now) => lock.withPermit(Effect.map(active(id), (s) => save(s.finish("escalated", "escalated", now)))),
    getOrCreateActive: (userId, now, policy) =>
      lock.withPermit(Effect.sync(() => {
        const current = [...sessions.values()].find((s) => s.userId === userId && s.isActive)
        if (current !== undefined && !current.isIdleAt(now, policy.idleTimeout)) {
          return { session: save(current.touched(now)), outcome: "reused" as const }
        }
        if (current !== undefined) save(current.finish("ended", "timeout", now))
        const session = save(Session.start(newSessionId(), userId, now))
        return current === undefined
          ? { session, outcome: "created" as const }
          : { session, outcome: "expired_then_created" as const, expiredSessionId: current.id }
      }))
  })
}))

sessionStoreContract("a Map store from another project", { layer: MapSessionStore, numRuns: 100, seed: 2026 })
