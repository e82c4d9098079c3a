import { Context } from "effect"
import type { InboundMessage } from "../channel/InboundMessage.ts"
import type { User } from "../identity/User.ts"
import type { Session } from "../session/Session.ts"

/**
 * What a request knows once it has identified its user and resolved its
 * session. It is provided to every later stage, the assistant included, so
 * no stage can resolve a session of its own: the session is resolved once and carried.
 */
export class RequestContext extends Context.Service<RequestContext, {
  readonly inbound: InboundMessage
  readonly user: User
  readonly session: Session
}>()("@parley/core/RequestContext") {}
