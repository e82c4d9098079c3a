import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { PhoneNumber } from "../PhoneNumber.ts"
import { BusinessScopedUserId } from "../UserAddress.ts"
import { Directory, type Subcontractor } from "../Worksite.ts"

export interface DirectoryContractOptions<E, R> {
  readonly layer: Layer.Layer<Directory | R, E>
  /** A registered user of this test's own (a phone number nobody else has, no BSUID yet). */
  readonly newUser: Effect.Effect<Subcontractor, unknown, Directory | R>
}

const randomUserId = () => BusinessScopedUserId.make(`FR.${crypto.randomUUID().replace(/-/g, "")}`)
const randomPhone = () => PhoneNumber.make(`+3367${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`)

/**
 * The `Directory` contract, for every implementation: users are found by
 * phone number or by business-scoped user id, the link is learnt when a
 * message carries both, an id names one user, and WhatsApp's identity
 * changes are applied once, never merging two people.
 */
export const directoryContract = <E, R = never>(name: string, options: DirectoryContractOptions<E, R>): void => {
  describe(`Directory contract: ${name}`, () => {
    layer(options.layer, { timeout: Duration.seconds(60) })((it) => {
      it.effect("found by phone; the BSUID that came with the phone is learnt, then finds the user alone", () =>
        Effect.gen(function*() {
          const directory = yield* Directory
          const user = yield* options.newUser
          const userId = randomUserId()
          assert.isUndefined(yield* directory.identify({ userId }), "an id nobody sent with a number is unknown")
          assert.strictEqual((yield* directory.identify({ phone: user.phone }))?.id, user.id)
          assert.strictEqual((yield* directory.identify({ phone: user.phone, userId }))?.whatsappUserId, userId)
          assert.strictEqual((yield* directory.identify({ userId }))?.id, user.id)
          assert.strictEqual((yield* directory.byPhone(user.phone))?.whatsappUserId, userId)
          assert.isUndefined(yield* directory.identify({ phone: randomPhone() }))
        }))

      it.effect("an id names one user: seen with another user's number, it moves to them", () =>
        Effect.gen(function*() {
          const directory = yield* Directory
          const [a, b] = [yield* options.newUser, yield* options.newUser]
          const userId = randomUserId()
          yield* directory.identify({ phone: a.phone, userId })
          assert.strictEqual((yield* directory.identify({ phone: b.phone, userId }))?.id, b.id)
          assert.strictEqual((yield* directory.identify({ userId }))?.id, b.id)
          assert.isUndefined((yield* directory.byPhone(a.phone))?.whatsappUserId)
        }))

      it.effect("a number change moves the user to the new number, once; a number another user has is refused", () =>
        Effect.gen(function*() {
          const directory = yield* Directory
          const [a, b] = [yield* options.newUser, yield* options.newUser]
          const next = randomPhone()
          assert.strictEqual((yield* directory.updateIdentity(a.id, { phone: next }))?.phone, next)
          assert.strictEqual((yield* directory.updateIdentity(a.id, { phone: next }))?.phone, next, "applied again: no change")
          assert.isUndefined(yield* directory.byPhone(a.phone))
          assert.strictEqual((yield* directory.updateIdentity(a.id, { phone: b.phone }))?.phone, next, "b's number stays b's")
          assert.strictEqual((yield* directory.byPhone(b.phone))?.id, b.id)
        }))

      it.effect("a new BSUID replaces the old one", () =>
        Effect.gen(function*() {
          const directory = yield* Directory
          const user = yield* options.newUser
          const [first, second] = [randomUserId(), randomUserId()]
          yield* directory.identify({ phone: user.phone, userId: first })
          assert.strictEqual((yield* directory.updateIdentity(user.id, { userId: second }))?.whatsappUserId, second)
          assert.strictEqual((yield* directory.identify({ userId: second }))?.id, user.id)
          assert.isUndefined(yield* directory.identify({ userId: first }))
        }))
    })
  })
}
