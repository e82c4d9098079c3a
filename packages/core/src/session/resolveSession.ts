import { DateTime, Effect, Metric, Option } from "effect"
import type { SessionId, UserId } from "../identity/Ids.ts"
import type { Session } from "./Session.ts"
import { SessionPolicy } from "./SessionPolicy.ts"
import { carriedSessionFallbacks, countResolution, type ResolveOutcome } from "./SessionMetrics.ts"
import { SessionStore } from "./SessionStore.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"
import type { StoredMessage } from "../conversation/StoredMessage.ts"

export interface ResolvedSession {
  readonly session: Session
  readonly outcome: ResolveOutcome
  /** The session's latest messages, when the store read them with it (see `GetOrCreateResult.recent`). */
  readonly recent?: ReadonlyArray<StoredMessage>
}

/**
 * The one place a request obtains its session.
 *
 * The seed's bug was a request calling get-or-create twice and writing to two
 * sessions. Here the caller passes back the session id it already resolved
 * (`carried`); as long as that session is still active for this user it is
 * used as is and nothing is created. A carried session idle past the policy's
 * timeout is not: it is only active because no message has ended it yet, and
 * `getOrCreateActive` ends it (`timeout`) exactly as it would for any message.
 * Only a request with nothing carried, or whose carried session is missing,
 * ended, another user's or idle, goes to `getOrCreateActive`, asking for
 * the `recent` messages the caller will read next (a store that can returns
 * them in the same round trip).
 */
export const resolveSession = Effect.fn("resolveSession")(function*(
  userId: UserId,
  carried: Option.Option<SessionId> = Option.none(),
  recent?: number
): Effect.fn.Return<ResolvedSession, StoreUnavailable, SessionStore> {
  const store = yield* SessionStore
  const policy = yield* SessionPolicy
  const now = yield* DateTime.now
  if (Option.isSome(carried)) {
    const found = yield* store.findById(carried.value).pipe(
      Effect.map(Option.some),
      Effect.catchTag("SessionNotFound", () => Effect.succeedNone)
    )
    const unusable = Option.match(found, {
      onNone: () => "missing",
      onSome: (s) =>
        s.userId !== userId ? "other_user" : !s.isActive ? s.status : s.isIdleAt(now, policy.idleTimeout) ? "idle" : undefined
    })
    if (unusable === undefined && Option.isSome(found)) {
      yield* countResolution("carried")
      yield* Effect.logDebug("session resolved").pipe(
        Effect.annotateLogs({ event: "session.resolved", outcome: "carried", sessionId: found.value.id })
      )
      return { session: found.value, outcome: "carried" }
    }
    yield* Metric.update(carriedSessionFallbacks, 1)
    yield* Effect.logWarning("carried session unusable, resolving again").pipe(
      Effect.annotateLogs({ event: "session.carried_fallback", sessionId: carried.value, reason: unusable })
    )
  }
  const result = yield* store.getOrCreateActive(userId, now, policy, recent === undefined ? undefined : { recent })
  yield* countResolution(result.outcome)
  // A session created or expired is an event worth a line; reusing one is every message's case (debug).
  yield* Effect.logWithLevel(result.outcome === "reused" ? "Debug" : "Info")("session resolved").pipe(
    Effect.annotateLogs({
      event: "session.resolved",
      outcome: result.outcome,
      sessionId: result.session.id,
      ...(result.expiredSessionId === undefined ? {} : { expiredSessionId: result.expiredSessionId })
    })
  )
  return { session: result.session, outcome: result.outcome, ...(result.recent === undefined ? {} : { recent: result.recent }) }
})
