import { PhoneNumber, User, UserId } from "@parley/core"
import { InMemoryDirectory } from "@parley/core/memory"
import { directoryContract } from "@parley/core/testing"
import { Effect } from "effect"

// The in-memory directory is built from its users: enough of their own for every test of the contract.
const users = Array.from({ length: 12 }, (_, i) =>
  new User({ id: UserId.make(crypto.randomUUID()), phone: PhoneNumber.make(`+3366${String(1_000_000 + i)}`), displayName: `User ${i}`, locale: "fr" }))
let next = 0

directoryContract("in-memory", {
  layer: InMemoryDirectory(users),
  newUser: Effect.sync(() => users[next++]!)
})
