import { Context, Effect } from "effect"
import type { SessionId, UserId } from "./Ids.ts"
import type { StoreUnavailable } from "./StoreUnavailable.ts"

export interface HandoffRequest {
  readonly userId: UserId
  readonly sessionId: SessionId
  readonly displayName: string
  /** Masked: handoff records end up in logs and operator screens. */
  readonly maskedPhone: string
  readonly at: number
}

/** A human is told that a user asked to talk to someone. */
export class Handoff extends Context.Service<Handoff, {
  notify(request: HandoffRequest): Effect.Effect<void, StoreUnavailable>
  list(limit: number): Effect.Effect<ReadonlyArray<HandoffRequest>, StoreUnavailable>
}>()("@parley/core/Handoff") {}
