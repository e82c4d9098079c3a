import { Effect, Layer } from "effect"
import { newSessionId, type SessionId, type UserId } from "../identity/Ids.ts"
import { Session } from "../session/Session.ts"
import { SessionNotActive, SessionNotFound, SessionStore, type GetOrCreateResult } from "../session/SessionStore.ts"

/**
 * `SessionStore` in process memory, for tests and embedders.
 *
 * Every operation is one `Effect.sync` block: a fiber cannot be preempted in
 * the middle of it, so each operation is a single atomic step on the state and
 * the store is linearizable without locks — the property the Postgres adapter
 * gets from the partial unique index and its atomic function.
 */
export const makeInMemorySessionStore = Effect.sync(() => {
  const sessions = new Map<SessionId, Session>()
  const activeByUser = new Map<UserId, SessionId>()

  const put = (session: Session): Session => {
    sessions.set(session.id, session)
    if (session.isActive) activeByUser.set(session.userId, session.id)
    else if (activeByUser.get(session.userId) === session.id) activeByUser.delete(session.userId)
    return session
  }

  const activeOne = (id: SessionId) =>
    Effect.suspend((): Effect.Effect<Session, SessionNotFound | SessionNotActive> => {
      const session = sessions.get(id)
      if (session === undefined) return Effect.fail(new SessionNotFound({ sessionId: id }))
      if (!session.isActive) return Effect.fail(new SessionNotActive({ sessionId: id, status: session.status }))
      return Effect.succeed(session)
    })

  return SessionStore.of({
    findById: (id) =>
      Effect.suspend((): Effect.Effect<Session, SessionNotFound> => {
        const session = sessions.get(id)
        return session === undefined ? Effect.fail(new SessionNotFound({ sessionId: id })) : Effect.succeed(session)
      }),

    getOrCreateActive: (userId, now, policy) =>
      Effect.sync((): GetOrCreateResult => {
        const currentId = activeByUser.get(userId)
        const current = currentId === undefined ? undefined : sessions.get(currentId)
        if (current !== undefined && !current.isIdleAt(now, policy.idleTimeout)) {
          return { session: put(current.touched(now)), outcome: "reused" }
        }
        const expired = current === undefined ? undefined : put(current.finish("ended", "timeout", now))
        const session = put(Session.start(newSessionId(), userId, now))
        return expired === undefined
          ? { session, outcome: "created" }
          : { session, outcome: "expired_then_created", expiredSessionId: expired.id }
      }),

    touch: (id, now) => activeOne(id).pipe(Effect.map((s) => put(s.touched(now)))),

    end: (id, reason, now) => activeOne(id).pipe(Effect.map((s) => put(s.finish("ended", reason, now)))),

    escalate: (id, now) => activeOne(id).pipe(Effect.map((s) => put(s.finish("escalated", "escalated", now)))),

    listByUser: (userId) =>
      Effect.sync(() =>
        [...sessions.values()]
          .filter((s) => s.userId === userId)
          .reverse()
      )
  })
})

export const InMemorySessionStore: Layer.Layer<SessionStore> = Layer.effect(SessionStore, makeInMemorySessionStore)
