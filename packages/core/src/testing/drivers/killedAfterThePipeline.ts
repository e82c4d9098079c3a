import { Clock, Deferred, Effect, Fiber } from "effect"
import { acceptInbound } from "../../intake/acceptInbound.ts"
import { Inbox } from "../../intake/Inbox.ts"
import type { InboundMessage } from "../../channel/InboundMessage.ts"
import { processMessage } from "../../pipeline/processMessage.ts"
import { defaultWorkerOptions, handleClaim } from "../../intake/Workers.ts"

/**
 * A worker killed at the worst moment: `message` is accepted and claimed, its
 * pipeline runs to the end (its tool wrote whatever it writes), then the
 * worker is interrupted before committing. The claim goes back to the inbox,
 * so the next drain processes the message again.
 */
export const killedAfterThePipeline = (message: InboundMessage) =>
  Effect.gen(function*() {
    yield* acceptInbound([message])
    const inbox = yield* Inbox
    const claim = yield* inbox.claim(yield* Clock.currentTimeMillis, defaultWorkerOptions.lease)
    if (claim?.entry.message.providerMessageId !== message.providerMessageId) {
      return yield* Effect.die(new Error("another message was claimable first"))
    }
    const ran = yield* Deferred.make<void>()
    const worker = yield* Effect.forkChild(handleClaim(claim, defaultWorkerOptions, (m) =>
      processMessage(m).pipe(Effect.tap(() => Deferred.succeed(ran, undefined)), Effect.andThen(Effect.never))))
    yield* Deferred.await(ran)
    yield* Fiber.interrupt(worker)
  })
