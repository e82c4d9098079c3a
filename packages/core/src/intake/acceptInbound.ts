import { Clock, Effect } from "effect"
import type { InboundMessage } from "../channel/InboundMessage.ts"
import { Inbox } from "./Inbox.ts"
import { count, inboxEvents } from "../pipeline/PipelineMetrics.ts"

/**
 * The webhook's only job: make the messages durable (deduplicated) and return.
 * Processing happens in the workers, so the provider gets its 200 within
 * milliseconds and a redelivery is recognised as a duplicate.
 */
export const acceptInbound = Effect.fn("acceptInbound")(function*(messages: ReadonlyArray<InboundMessage>) {
  const inbox = yield* Inbox
  const result = yield* inbox.accept(messages, yield* Clock.currentTimeMillis)
  yield* count(inboxEvents, { event: "accepted" }, result.accepted)
  yield* count(inboxEvents, { event: "duplicate" }, result.duplicates)
  if (result.duplicates > 0) {
    yield* Effect.logInfo("duplicate delivery").pipe(Effect.annotateLogs({ event: "inbox.duplicate", duplicates: result.duplicates }))
  }
  return result
})
