import { Context, Effect, Layer } from "effect"
import { Messenger, SendFailed, type Sent } from "../Messenger.ts"
import type { UserAddress } from "../UserAddress.ts"
import type { Reply } from "../Reply.ts"

export interface SentReply {
  readonly to: UserAddress
  readonly reply: Reply
  readonly replyId: string
  /** The id the "provider" gave the sent message: a tap answering it carries it as `replyTo`. */
  readonly providerMessageId: string
}

/** A `Messenger` that keeps what it was asked to send; `failNext` makes the next sends fail like a provider would. */
export class RecordingMessenger extends Context.Service<RecordingMessenger, {
  readonly sent: Effect.Effect<ReadonlyArray<SentReply>>
  failNext(times: number, failure: SendFailed): Effect.Effect<void>
}>()("@parley/core/testing/RecordingMessenger") {}

export const RecordingMessengerLayer: Layer.Layer<Messenger | RecordingMessenger> = Layer.effectContext(
  Effect.sync(() => {
    // Unique across instances: stores shared by several test runs look replies up by this id.
    const instance = crypto.randomUUID().slice(0, 8)
    const sent: Array<SentReply> = []
    const failures: Array<SendFailed> = []
    return Context.make(Messenger, Messenger.of({
      send: (to, reply, replyId) =>
        Effect.suspend((): Effect.Effect<Sent, SendFailed> => {
          const failure = failures.shift()
          if (failure !== undefined) return Effect.fail(failure)
          const providerMessageId = `wamid.recorded.${instance}.${sent.length + 1}`
          sent.push({ to, reply, replyId, providerMessageId })
          return Effect.succeed({ providerMessageId })
        }),
      markAsRead: () => Effect.void
    })).pipe(Context.add(RecordingMessenger, RecordingMessenger.of({
      sent: Effect.sync(() => [...sent]),
      failNext: (times, failure) => Effect.sync(() => { for (let i = 0; i < times; i++) failures.push(failure) })
    })))
  })
)

export const sendFailure = (reason: SendFailed["reason"], retryable: boolean) =>
  new SendFailed({ reason, retryable, message: `simulated ${reason}` })
