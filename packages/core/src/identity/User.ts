import { Schema } from "effect"
import { PhoneNumber } from "../channel/PhoneNumber.ts"
import { BusinessScopedUserId } from "../channel/UserAddress.ts"
import { UserId } from "./Ids.ts"

/**
 * A user as the engine knows them: enough to own sessions, address replies
 * and hand a conversation to a human. An assistant keeps any richer profile
 * (a subcontractor's sites, a customer's plan) behind its own ports, keyed by `id`.
 */
export class User extends Schema.Class<User>("@parley/core/User")({
  id: UserId,
  phone: PhoneNumber,
  displayName: Schema.String,
  /** Their WhatsApp business-scoped user id, once a message carried it with their number. */
  whatsappUserId: Schema.optionalKey(BusinessScopedUserId),
  /** A language tag the assistant may use to choose its words ("fr", "en"…); the engine does not read it. */
  locale: Schema.optionalKey(Schema.String)
}) {}
