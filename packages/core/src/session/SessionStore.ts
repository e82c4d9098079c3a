import { Context, DateTime, Effect, Schema } from "effect"
import type { SessionPolicyShape } from "./SessionPolicy.ts"
import { Session } from "./Session.ts"
import { SessionId, UserId } from "../identity/Ids.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"
import type { StoredMessage } from "../conversation/StoredMessage.ts"

export const GetOrCreateOutcome = Schema.Literals(["reused", "created", "expired_then_created"])
export type GetOrCreateOutcome = typeof GetOrCreateOutcome.Type

export interface GetOrCreateResult {
  readonly session: Session
  readonly outcome: GetOrCreateOutcome
  /** The session that was ended with `timeout` to make room, when outcome is `expired_then_created`. */
  readonly expiredSessionId?: SessionId
  /**
   * The session's latest messages, newest first, when the caller asked for
   * them (`recent`) and the store can read them in the same step (on
   * Postgres: the same statement, one round trip instead of two). Absent, the
   * engine reads them from the `MessageStore`.
   */
  readonly recent?: ReadonlyArray<StoredMessage>
}

export interface GetOrCreateOptions {
  /** Also return up to this many of the session's latest messages, if the store can (see `GetOrCreateResult.recent`). */
  readonly recent?: number
}

export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()("SessionNotFound", {
  sessionId: SessionId
}) {}

/** The operation needs an active session and this one is not (already ended or escalated). */
export class SessionNotActive extends Schema.TaggedError<SessionNotActive>()("SessionNotActive", {
  sessionId: SessionId,
  status: Schema.String
}) {}

/**
 * Where conversation sessions live.
 *
 * Contract (every implementation, and the shared contract suite checks it):
 * - **Linearizable per user**: the operations on one user's sessions behave as
 *   if they happened one at a time, in an order consistent with real time.
 * - **At most one `active` session per user at every instant**, whatever the
 *   concurrency, the number of processes, or the interleaving of callers.
 * - `getOrCreateActive` is a single atomic step: it returns the user's active
 *   session if it is not idle for longer than `policy.idleTimeout` (`reused`);
 *   otherwise it ends the idle one with reason `timeout` and creates its
 *   successor (`expired_then_created`), or creates the first one (`created`).
 *   A reused session has its `lastMessageAt` moved to `now`. Asked for
 *   `recent` messages, a store may return them with the session: exactly
 *   what `MessageStore.recent` would return for it at that point.
 * - `touch`, `end` and `escalate` address one session by id; ending or
 *   escalating leaves the user with no active session, so the next
 *   `getOrCreateActive` creates one.
 * - Time is what the caller passes as `now`, never the store's own clock, so
 *   tests can drive every implementation with `TestClock`.
 */
export class SessionStore extends Context.Service<SessionStore, {
  findById(id: SessionId): Effect.Effect<Session, SessionNotFound | StoreUnavailable>
  getOrCreateActive(
    userId: UserId,
    now: DateTime.Utc,
    policy: SessionPolicyShape,
    options?: GetOrCreateOptions
  ): Effect.Effect<GetOrCreateResult, StoreUnavailable>
  /** Records activity: `lastMessageAt` becomes `max(lastMessageAt, now)`. */
  touch(id: SessionId, now: DateTime.Utc): Effect.Effect<Session, SessionNotFound | SessionNotActive | StoreUnavailable>
  end(id: SessionId, reason: "timeout" | "superseded" | "manual", now: DateTime.Utc): Effect.Effect<Session, SessionNotFound | SessionNotActive | StoreUnavailable>
  /** Hands the conversation to a human: status `escalated`, reason `escalated`. */
  escalate(id: SessionId, now: DateTime.Utc): Effect.Effect<Session, SessionNotFound | SessionNotActive | StoreUnavailable>
  /** Every session of the user, newest first (admin views and invariant checks). */
  listByUser(userId: UserId): Effect.Effect<ReadonlyArray<Session>, StoreUnavailable>
}>()("@parley/core/SessionStore") {}
