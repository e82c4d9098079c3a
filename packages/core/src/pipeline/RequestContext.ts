import { Context } from "effect"
import type { InboundMessage } from "../channel/InboundMessage.ts"
import type { Session } from "../session/Session.ts"
import type { Subcontractor } from "../../../worksite/src/domain/Worksite.ts"

/**
 * What a request knows once it has identified its user and resolved its
 * session. It is provided to every later stage, so no stage can resolve a
 * session of its own: the session is resolved once and carried.
 */
export class RequestContext extends Context.Service<RequestContext, {
  readonly inbound: InboundMessage
  readonly user: Subcontractor
  readonly session: Session
}>()("@parley/core/RequestContext") {}
