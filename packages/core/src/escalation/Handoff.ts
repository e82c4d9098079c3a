import { Context, Effect } from "effect"
import type { SessionId, UserId } from "../identity/Ids.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"

export interface HandoffRequest {
  readonly userId: UserId
  readonly sessionId: SessionId
  readonly displayName: string
  /** Masked: handoff records end up in logs and operator screens. */
  readonly maskedPhone: string
  readonly at: number
}

/**
 * A human is told that a user asked to talk to someone.
 *
 * - `notify` records one handoff per session: the engine calls it before the
 *   escalating turn is committed, so a message processed again (a worker
 *   killed after it ran, a lost lease) notifies again, and must not hand the conversation
 *   over twice. The first request is kept; the `handoff.requested` event is
 *   logged when it is recorded.
 * - `list` returns the latest handoffs, newest first.
 */
export class Handoff extends Context.Service<Handoff, {
  notify(request: HandoffRequest): Effect.Effect<void, StoreUnavailable>
  list(limit: number): Effect.Effect<ReadonlyArray<HandoffRequest>, StoreUnavailable>
}>()("@parley/core/Handoff") {}

/** The structured event an operator's alerting watches for; phones are already masked in the request. */
export const logHandoff = (request: HandoffRequest) =>
  Effect.logWarning("conversation handed to a human").pipe(Effect.annotateLogs({
    event: "handoff.requested",
    sessionId: request.sessionId,
    user: request.displayName,
    phone: request.maskedPhone
  }))
