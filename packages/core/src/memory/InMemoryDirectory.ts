import { Effect, Layer } from "effect"
import type { PhoneNumber } from "../channel/PhoneNumber.ts"
import type { BusinessScopedUserId } from "../channel/UserAddress.ts"
import { Directory, type IdentityChange, type SenderIdentity } from "../identity/Directory.ts"
import type { UserId } from "../identity/Ids.ts"
import { User } from "../identity/User.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"

/** A user with a new phone number and/or business-scoped user id (undefined: the id is taken away). */
export type WithIdentity<U extends User> = (user: U, fields: { readonly phone: PhoneNumber; readonly whatsappUserId: BusinessScopedUserId | undefined }) => U

const asUser: WithIdentity<User> = (user, { phone, whatsappUserId }) => {
  const { whatsappUserId: _, ...rest } = user
  return new User({ ...rest, phone, ...(whatsappUserId === undefined ? {} : { whatsappUserId }) })
}

/**
 * The `Directory` contract in process memory over a list of users (of any
 * `User` subtype: `withIdentity` rebuilds one after an identity change).
 */
export const makeInMemoryDirectory = <U extends User>(users: ReadonlyArray<U>, withIdentity: WithIdentity<U>) => {
  // By id, in registration order; identity changes replace a user's entry.
  const people = new Map(users.map((u) => [u.id, u]))
  const find = (p: (u: U) => boolean) => [...people.values()].find(p)
  const update = (u: U, change: { readonly phone?: PhoneNumber; readonly whatsappUserId?: BusinessScopedUserId | undefined }) => {
    const updated = withIdentity(u, {
      phone: change.phone ?? u.phone,
      whatsappUserId: "whatsappUserId" in change ? change.whatsappUserId : u.whatsappUserId
    })
    people.set(u.id, updated)
    return updated
  }
  // An id names one user: recording it for one takes it from whoever had it.
  const link = (u: U, userId: BusinessScopedUserId) => {
    if (u.whatsappUserId === userId) return u
    for (const other of people.values()) if (other.id !== u.id && other.whatsappUserId === userId) update(other, { whatsappUserId: undefined })
    return update(u, { whatsappUserId: userId })
  }
  return {
    byPhone: (phone: PhoneNumber): Effect.Effect<U | undefined, StoreUnavailable> => Effect.sync(() => find((u) => u.phone === phone)),
    identify: ({ phone, userId }: SenderIdentity): Effect.Effect<U | undefined, StoreUnavailable> =>
      Effect.sync(() => {
        const byPhone = phone === undefined ? undefined : find((u) => u.phone === phone)
        if (byPhone !== undefined) return userId === undefined ? byPhone : link(byPhone, userId)
        return userId === undefined ? undefined : find((u) => u.whatsappUserId === userId)
      }),
    updateIdentity: (id: UserId, change: IdentityChange): Effect.Effect<U | undefined, StoreUnavailable> =>
      Effect.sync(() => {
        const u = people.get(id)
        if (u === undefined) return undefined
        // A number another user has is refused (the directory never merges two people); applying it twice is a no-op.
        const taken = change.phone !== undefined && find((o) => o.phone === change.phone && o.id !== id) !== undefined
        const moved = change.phone === undefined || taken ? u : update(u, { phone: change.phone })
        return change.userId === undefined ? moved : link(moved, change.userId)
      })
  }
}

/** A `Directory` of a fixed list of users, known by phone number or WhatsApp user id: for tests, demos and small deployments. */
export const InMemoryDirectory = (users: ReadonlyArray<User>): Layer.Layer<Directory> =>
  Layer.sync(Directory, () => Directory.of(makeInMemoryDirectory(users, asUser)))
