import { Context, Effect, Layer, Option, Schema } from "effect"
import type { InboundMessage } from "../channel/InboundMessage.ts"
import { Reply } from "../channel/Reply.ts"
import type { EngineMetadata, StoredMessage } from "../conversation/StoredMessage.ts"
import type { User } from "../identity/User.ts"
import type { PipelineError } from "../pipeline/PipelineError.ts"
import type { RequestContext } from "../pipeline/RequestContext.ts"
import { stage } from "../pipeline/stage.ts"
import type { Session } from "../session/Session.ts"
import type { ResolveOutcome } from "../session/SessionMetrics.ts"
import type { StoreUnavailable } from "../StoreUnavailable.ts"
import { AssistantError } from "./AssistantError.ts"

/**
 * A message of the session as the assistant sees it: the stored message, its
 * `metadata` holding the engine's keys and the assistant's own state for it,
 * decoded with the assistant's `state` schema (a message whose state does not
 * decode, written by another assistant or an older version, has none).
 */
export type RecentMessage<S> = Omit<StoredMessage, "metadata"> & {
  readonly metadata: typeof EngineMetadata.Type & Partial<S>
}

/** What the engine knows when it asks the assistant: built once the session is resolved and its context loaded. */
export interface AssistantRequest<S = Readonly<Record<string, unknown>>> {
  /** Who wrote, as the `Directory` identified them. */
  readonly user: User
  /** The one session this request resolved: every message the turn stores goes there. */
  readonly session: Session
  /** How the session was obtained: carried by a tap, reused, created, or created after the last one idled out. */
  readonly resolution: ResolveOutcome
  /** The session's latest messages, newest first (the inbound one is not among them yet). */
  readonly recent: ReadonlyArray<RecentMessage<S>>
  readonly inbound: InboundMessage
  /**
   * `provider:providerMessageId`: the same on every attempt. `respond` can run
   * more than once for one message (a worker killed after it ran, a lease
   * taken over), so any side effect the assistant has must be keyed by it.
   */
  readonly key: string
  /** Epoch milliseconds when the engine started processing the message. */
  readonly now: number
}

export interface AssistantReply<S = Readonly<Record<string, unknown>>> {
  readonly reply: Reply
  /** Stored with the outbound message, handed back in `recent` (e.g. what each button of `reply` stands for). */
  readonly state?: S | undefined
}

/**
 * What the assistant wants done: a value, never an action. The engine stores
 * the inbound message (with `state`) and the replies (each with its state) in
 * the request's session, queues the replies, and hands the session to a human
 * when `escalate` is set — all in one commit with the inbox entry.
 */
export interface AssistantResponse<S = Readonly<Record<string, unknown>>> {
  readonly state?: S | undefined
  readonly replies: ReadonlyArray<AssistantReply<S>>
  /** The session ends for the assistant (`escalated`) and a `Handoff` is recorded for a human. */
  readonly escalate?: { readonly reason: string } | undefined
  /** Annotations of the `pipeline.processed` log line (e.g. `via`, `action`, `tool`). */
  readonly label?: Readonly<Record<string, string>> | undefined
}

/** A failure of the assistant; the engine retries the message, then parks it as dead. */
export type AssistantFailure = AssistantError | StoreUnavailable | PipelineError

export interface AssistantShape {
  /** The state in requests and responses is the encoded form: the engine stores it as it is. */
  respond(request: AssistantRequest<Readonly<Record<string, unknown>>>): Effect.Effect<AssistantResponse, AssistantFailure>
  /** The replies to someone the `Directory` does not know; they get no session. */
  unknownSender(inbound: InboundMessage): Effect.Effect<ReadonlyArray<Reply>, AssistantFailure>
}

export interface AssistantHooks<S, R> {
  /** The assistant's state per message. Keep its fields optional: old messages may lack them. */
  readonly state: Schema.Codec<S, any, never, never>
  readonly respond: (request: AssistantRequest<S>) => Effect.Effect<AssistantResponse<S>, AssistantFailure, R>
  readonly unknownSender?: ((inbound: InboundMessage) => Effect.Effect<ReadonlyArray<Reply>, AssistantFailure, R>) | undefined
  /**
   * The stages `respond` runs through `Assistant.stage` itself (the worksite's
   * `decide`, `run_tool`). Without them the whole of `respond` is one stage,
   * `respond`: either way it is a `stage.*` span, timed in `parley_stage_seconds`.
   */
  readonly stages?: ReadonlyArray<string> | undefined
}

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null && !Array.isArray(u)
const decodeReply = Schema.decodeUnknownEffect(Reply)

/**
 * The conversation's brain, as a port: given the request (who, which session,
 * what was said before, what was just said) it answers what to store and what
 * to reply. The engine owns everything else: ordering, the one session,
 * storage, delivery, retries, the handoff.
 */
export class Assistant extends Context.Service<Assistant, AssistantShape>()("@parley/core/Assistant") {
  /**
   * An `Assistant` from a plug-in's hooks: its state decoded in `recent` and
   * encoded in the response, the response checked (replies must be valid
   * `Reply`s), and its requirements captured from the layer's context —
   * except `RequestContext`, which the engine provides per request.
   */
  static make<S, R = never>(hooks: AssistantHooks<S, R>): Effect.Effect<AssistantShape, never, Exclude<R, RequestContext>> {
    return Effect.gen(function*() {
      const context = yield* Effect.context<Exclude<R, RequestContext>>()
      const decodeState = Schema.decodeUnknownOption(hooks.state)
      const encodeState = Schema.encodeUnknownEffect(hooks.state)
      const run = <A>(effect: Effect.Effect<A, AssistantFailure, R>) =>
        Effect.provide(effect, context) as Effect.Effect<A, AssistantFailure>
      const encoded = (state: S | undefined) =>
        state === undefined ? Effect.succeed(undefined) : encodeState(state).pipe(
          Effect.mapError((e) => new AssistantError({ reason: "invalid_response", message: `state does not encode: ${e.message}` })),
          Effect.flatMap((value) =>
            isRecord(value)
              ? Effect.succeed(value)
              : Effect.fail(new AssistantError({ reason: "invalid_response", message: "state must encode to an object" }))
          )
        )
      const withState = (message: StoredMessage): RecentMessage<S> => {
        const { interactive, reply, received, group } = message.metadata
        const engine = {
          ...(interactive === undefined ? {} : { interactive }),
          ...(reply === undefined ? {} : { reply }),
          ...(received === undefined ? {} : { received }),
          ...(group === undefined ? {} : { group })
        }
        const state = Option.getOrUndefined(decodeState(message.metadata))
        const metadata = { ...(isRecord(state) ? state : {}), ...engine } as RecentMessage<S>["metadata"]
        return { ...message, metadata }
      }
      const validReply = (reply: Reply) =>
        decodeReply(reply).pipe(Effect.mapError((e) => new AssistantError({ reason: "invalid_response", message: `invalid reply: ${e.message}` })))
      const respond = (request: AssistantRequest): Effect.Effect<AssistantResponse, AssistantFailure> =>
        Effect.gen(function*() {
          const response = yield* run(hooks.respond({ ...request, recent: request.recent.map(withState) }))
          return {
            state: yield* encoded(response.state),
            replies: yield* Effect.forEach(response.replies, (r) =>
              Effect.all({ reply: validReply(r.reply), state: encoded(r.state) })),
            escalate: response.escalate,
            label: response.label
          } satisfies AssistantResponse
        })
      return {
        respond: hooks.stages === undefined ? (request) => stage("respond", respond(request)) : respond,
        unknownSender: (inbound) =>
          hooks.unknownSender === undefined
            ? Effect.succeed([])
            : Effect.flatMap(run(hooks.unknownSender(inbound)), (replies) => Effect.forEach(replies, validReply))
      }
    })
  }

  /** `Assistant.make` as a layer. */
  static layer<S, R = never>(hooks: AssistantHooks<S, R>): Layer.Layer<Assistant, never, Exclude<R, RequestContext>> {
    return Layer.effect(Assistant, Assistant.make(hooks))
  }

  /**
   * Runs one step of the assistant as a pipeline stage: a `stage.<name>` span
   * beneath `processMessage`, its time in `parley_stage_seconds{stage}`, and
   * its failures a `PipelineError` naming it.
   */
  static stage = stage
}
