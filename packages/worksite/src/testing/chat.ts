import { buttonsOf, chatAs } from "@parley/core/testing"
import { Effect } from "effect"
import { Worksite, type Subcontractor } from "../domain/Worksite.ts"

/** A user's incidents as the tests compare them: description and photo refs. */
export const incidentSummaries = (user: Subcontractor) =>
  Effect.gen(function*() {
    const incidents = yield* (yield* Worksite).incidentsOf(user.id)
    return incidents.map((i) => ({ description: i.description, photos: i.photoRefs }))
  })

/** menu → Report a problem → the site: the assistant then waits for the description (or a photo). */
export const startReport = (user: Subcontractor, site: string) =>
  Effect.gen(function*() {
    const chat = chatAs(user.phone)
    const [menu] = yield* chat.say("menu")
    const [which] = yield* chat.tap(menu, buttonsOf(menu)[1]!)
    const [describe] = yield* chat.tap(which, site)
    return { chat, describe: describe! }
  })
