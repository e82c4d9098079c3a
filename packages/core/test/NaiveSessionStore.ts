import { Effect, Layer } from "effect"
import { newSessionId, Session, type SessionId, SessionNotActive, SessionNotFound, SessionStore } from "@parley/core"

/**
 * The seed's first get-or-create, kept to prove the property suite has teeth:
 * it reads the user's active session, yields (the round trip to the database),
 * then writes on what it read. Two concurrent first messages both see "none"
 * and both insert; two concurrent expiries both end the old one and both insert.
 */
export const NaiveSessionStore: Layer.Layer<SessionStore> = Layer.sync(SessionStore, () => {
  const sessions = new Map<SessionId, Session>()
  const save = (s: Session) => {
    sessions.set(s.id, s)
    return s
  }
  const get = (id: SessionId) =>
    Effect.suspend((): Effect.Effect<Session, SessionNotFound> => {
      const s = sessions.get(id)
      return s ? Effect.succeed(s) : Effect.fail(new SessionNotFound({ sessionId: id }))
    })
  const active = (id: SessionId) =>
    get(id).pipe(Effect.filterOrFail((s) => s.isActive, (s) => new SessionNotActive({ sessionId: id, status: s.status })))

  return SessionStore.of({
    findById: get,
    listByUser: (userId) => Effect.sync(() => [...sessions.values()].filter((s) => s.userId === userId).reverse()),
    touch: (id, now) => active(id).pipe(Effect.map((s) => save(s.touched(now)))),
    end: (id, reason, now) => active(id).pipe(Effect.map((s) => save(s.finish("ended", reason, now)))),
    escalate: (id, now) => active(id).pipe(Effect.map((s) => save(s.finish("escalated", "escalated", now)))),
    getOrCreateActive: (userId, now, policy) =>
      Effect.gen(function*() {
        const current = [...sessions.values()].find((s) => s.userId === userId && s.isActive)
        yield* Effect.yieldNow // SELECT … then INSERT: the gap the seed's race lived in
        if (current !== undefined && !current.isIdleAt(now, policy.idleTimeout)) {
          return { session: save(current.touched(now)), outcome: "reused" as const }
        }
        if (current !== undefined) save(current.finish("ended", "timeout", now))
        const session = save(Session.start(newSessionId(), userId, now))
        return current === undefined
          ? { session, outcome: "created" as const }
          : { session, outcome: "expired_then_created" as const, expiredSessionId: current.id }
      })
  })
})
