import { PhoneNumber, UserId } from "@parley/core"
import { directoryContract } from "@parley/core/testing"
import { demoData, InMemoryWorksite, Subcontractor } from "@parley/worksite"
import { Effect } from "effect"

// The worksite's in-memory directory (its subcontractors) keeps the engine's Directory contract too.
const extra = Array.from({ length: 12 }, (_, i) =>
  new Subcontractor({ id: UserId.make(crypto.randomUUID()), phone: PhoneNumber.make(`+3366${String(1_000_000 + i)}`), displayName: `User ${i}`, locale: "fr" }))
let next = 0

directoryContract("in-memory worksite", {
  layer: InMemoryWorksite({ ...demoData, subcontractors: [...demoData.subcontractors, ...extra] }),
  newUser: Effect.sync(() => extra[next++]!)
})
