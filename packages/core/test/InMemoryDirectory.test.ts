import { demoData, InMemoryWorksite, PhoneNumber, Subcontractor, UserId } from "@parley/core"
import { directoryContract } from "@parley/core/testing"
import { Effect } from "effect"

// The in-memory directory is built from its data: enough users of their own for every test of the contract.
const extra = Array.from({ length: 12 }, (_, i) =>
  new Subcontractor({ id: UserId.make(crypto.randomUUID()), phone: PhoneNumber.make(`+3366${String(1_000_000 + i)}`), displayName: `User ${i}`, locale: "fr" }))
let next = 0

directoryContract("in-memory", {
  layer: InMemoryWorksite({ ...demoData, subcontractors: [...demoData.subcontractors, ...extra] }),
  newUser: Effect.sync(() => extra[next++]!)
})
