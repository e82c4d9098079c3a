import { Duration, DateTime, Option, Schema } from "effect"
import { SessionId, UserId } from "../identity/Ids.ts"

export const SessionStatus = Schema.Literals(["active", "ended", "escalated"])
export type SessionStatus = typeof SessionStatus.Type

export const EndReason = Schema.Literals(["timeout", "escalated", "superseded", "manual"])
export type EndReason = typeof EndReason.Type

export class Session extends Schema.Class<Session>("@parley/core/Session")({
  id: SessionId,
  userId: UserId,
  status: SessionStatus,
  startedAt: Schema.DateTimeUtc,
  lastMessageAt: Schema.DateTimeUtc,
  endedAt: Schema.Option(Schema.DateTimeUtc),
  endReason: Schema.Option(EndReason)
}) {
  get isActive(): boolean {
    return this.status === "active"
  }

  /**
   * Idle strictly longer than the timeout. A message arriving exactly at the
   * boundary still belongs to the session: both stores (and the SQL function)
   * use the same strict comparison so they agree on the edge.
   */
  isIdleAt(now: DateTime.Utc, idleTimeout: Duration.Duration): boolean {
    return DateTime.toEpochMillis(now) - DateTime.toEpochMillis(this.lastMessageAt) > Duration.toMillis(idleTimeout)
  }

  static start(id: SessionId, userId: UserId, now: DateTime.Utc): Session {
    return new Session({
      id,
      userId,
      status: "active",
      startedAt: now,
      lastMessageAt: now,
      endedAt: Option.none(),
      endReason: Option.none()
    })
  }

  finish(status: "ended" | "escalated", reason: EndReason, now: DateTime.Utc): Session {
    return new Session({ ...this, status, endedAt: Option.some(now), endReason: Option.some(reason) })
  }

  touched(now: DateTime.Utc): Session {
    // lastMessageAt never moves backwards: concurrent writers may touch out of order.
    return DateTime.isGreaterThan(now, this.lastMessageAt) ? new Session({ ...this, lastMessageAt: now }) : this
  }
}
