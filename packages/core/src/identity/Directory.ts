import { Context, Effect } from "effect"
import type { PhoneNumber } from "../channel/PhoneNumber.ts"
import type { BusinessScopedUserId } from "../channel/UserAddress.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"
import type { UserId } from "./Ids.ts"
import type { User } from "./User.ts"

/** How a message names its sender: a phone number, a business-scoped user id, or both. */
export interface SenderIdentity {
  readonly phone?: PhoneNumber | undefined
  readonly userId?: BusinessScopedUserId | undefined
}

/** What WhatsApp says changed about a user (`user_changed_number`, `user_changed_user_id`). */
export interface IdentityChange {
  readonly phone?: PhoneNumber | undefined
  readonly userId?: BusinessScopedUserId | undefined
}

export interface DirectoryShape {
  /**
   * The user a message comes from: by phone number, else by business-scoped
   * user id; undefined for a stranger, who gets the assistant's
   * `unknownSender` replies and no session. When the message carries both and
   * the user is known by the number, the id is recorded as theirs (and taken
   * from anyone it was recorded for before: an id names one user).
   */
  identify(sender: SenderIdentity): Effect.Effect<User | undefined, StoreUnavailable>
  /** A user by phone number, for operators' views (the admin API looks users up this way). */
  byPhone(phone: PhoneNumber): Effect.Effect<User | undefined, StoreUnavailable>
  /**
   * Applies a change WhatsApp reported: a new phone number (kept only if no
   * other user has it: the directory never merges two people) and/or a new
   * business-scoped user id. Applying it again changes nothing.
   */
  updateIdentity(userId: UserId, change: IdentityChange): Effect.Effect<User | undefined, StoreUnavailable>
}

/**
 * Who is writing to us: the engine's one question about identity, answered
 * by the embedder. Users are registered by phone number; WhatsApp users with
 * a username may write with their business-scoped user id alone, so a
 * directory also knows users by it, learnt the first time a message carries both.
 */
export class Directory extends Context.Service<Directory, DirectoryShape>()("@parley/core/Directory") {}
