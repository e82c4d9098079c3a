import { Context, Effect } from "effect"
import type { InboundMessage } from "../channel/InboundMessage.ts"
import type { PhoneNumber } from "../channel/PhoneNumber.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"
import type { User } from "./User.ts"

export interface DirectoryShape {
  /**
   * Who sent this message: undefined for a stranger, who gets the assistant's
   * `unknownSender` replies and no session. An implementation may look at any
   * part of the message (the phone number, a provider's user id).
   */
  identify(inbound: InboundMessage): Effect.Effect<User | undefined, StoreUnavailable>
  /** A user by phone number, for operators' views (the admin API looks users up this way). */
  byPhone(phone: PhoneNumber): Effect.Effect<User | undefined, StoreUnavailable>
}

/** Who is writing to us. The engine's one question about identity; the embedder answers it. */
export class Directory extends Context.Service<Directory, DirectoryShape>()("@parley/core/Directory") {
  /** A directory that knows users by phone number only: `identify` looks the sender's number up. */
  static fromPhoneLookup(byPhone: DirectoryShape["byPhone"]): DirectoryShape {
    return { identify: (inbound) => byPhone(inbound.from), byPhone }
  }
}
