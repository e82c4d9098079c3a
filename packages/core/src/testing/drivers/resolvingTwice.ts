import { Clock, Effect, Option } from "effect"
import { Assistant } from "../../assistant/Assistant.ts"
import type { InboundMessage } from "../../channel/InboundMessage.ts"
import type { Process } from "../../intake/Workers.ts"
import { buildTurn, identify, keyOf, loadContext } from "../../pipeline/processMessage.ts"
import { RequestContext } from "../../pipeline/RequestContext.ts"
import { resolveSession } from "../../session/resolveSession.ts"

/**
 * The seed's bug, for tests that must catch it: the stage that stores the
 * replies calls get-or-create again instead of using the session the request
 * resolved. When the session idles out while the assistant thinks, the
 * replies and their state land in a new session, away from the inbound.
 */
export const resolvingTwice: Process = (inbound: InboundMessage) =>
  Effect.gen(function*() {
    const user = (yield* identify(inbound))!
    const { session, outcome } = yield* resolveSession(user.id, Option.none())
    const context = { inbound, user, session }
    const recent = yield* loadContext(session)
    const now = yield* Clock.currentTimeMillis
    const response = yield* (yield* Assistant).respond({ user, session, resolution: outcome, recent, inbound, key: keyOf(inbound), now }).pipe(
      Effect.provideService(RequestContext, context)
    )
    const again = yield* resolveSession(user.id, Option.none())
    const turn = buildTurn(context, response, yield* Clock.currentTimeMillis)
    return {
      ...turn,
      sessionId: again.session.id,
      messages: turn.messages.map((m) => (m.direction === "outbound" ? { ...m, sessionId: again.session.id } : m))
    }
  }).pipe(Effect.orDie) as ReturnType<Process>
