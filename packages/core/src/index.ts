/**
 * @parley/core: the conversation engine. Users write through a channel; the
 * engine identifies them (`Directory`), resolves their one session, loads its
 * recent messages, asks the `Assistant` what to store and reply, and commits
 * that turn with the inbox entry; workers keep each user's messages in order
 * and the outbox delivers replies. Adapters provide the ports; the in-memory
 * ones are in `@parley/core/memory`, contract suites in `@parley/core/testing`.
 */

// The channel: what users send and what we send back.
export {
  ButtonReply,
  Contacts,
  Deleted,
  DeliveryStatus,
  Edited,
  InboundMessage,
  ListReply,
  Location,
  Media,
  MessageContent,
  Order,
  phoneOf,
  Provider,
  Reaction,
  senderKeyOf,
  SystemNotice,
  Text,
  Unsupported
} from "./channel/InboundMessage.ts"
export { ButtonsReply, ListReplyMessage, ListRow, ListSection, Reply, ReplyButton, TextReply } from "./channel/Reply.ts"
export { maskPhone, maskPhones, PhoneNumber } from "./channel/PhoneNumber.ts"
export { BusinessScopedUserId, isPhoneNumber, maskAddress, UserAddress } from "./channel/UserAddress.ts"
export { Messenger, SendFailed, SendFailureReason, type Sent } from "./channel/Messenger.ts"

// Identity: who is writing.
export { newSessionId, SessionId, UserId } from "./identity/Ids.ts"
export { User } from "./identity/User.ts"
export { Directory, type DirectoryShape, type IdentityChange, type SenderIdentity } from "./identity/Directory.ts"

// Sessions: at most one active per user, resolved once per request.
export { EndReason, Session, SessionStatus } from "./session/Session.ts"
export { defaultIdleTimeout, SessionPolicy, SessionPolicyFromConfig, sessionPolicyConfig, type SessionPolicyShape } from "./session/SessionPolicy.ts"
export { type GetOrCreateOptions, GetOrCreateOutcome, type GetOrCreateResult, SessionNotActive, SessionNotFound, SessionStore } from "./session/SessionStore.ts"
export { carriedSessionFallbacks, type ResolveOutcome, sessionResolutions } from "./session/SessionMetrics.ts"
export { resolveSession, type ResolvedSession } from "./session/resolveSession.ts"

// The conversation log and the unit of commit.
export { EngineMetadata, MessageMetadata, MessageStore, type NewMessage, StoredMessage } from "./conversation/StoredMessage.ts"
export type { OutgoingReply, Turn } from "./conversation/Turn.ts"

// The assistant: the plug-in that decides what to say.
export {
  Assistant,
  type AssistantFailure,
  type AssistantHooks,
  type AssistantReply,
  type AssistantRequest,
  type AssistantResponse,
  type AssistantShape,
  type RecentMessage
} from "./assistant/Assistant.ts"
export { AssistantError } from "./assistant/AssistantError.ts"

// The pipeline for one message, its context, errors and metrics.
export { buildTurn, contextSize, describeContent, identify, keyOf, loadContext, processMessage, replyIdOf } from "./pipeline/processMessage.ts"
export { RequestContext } from "./pipeline/RequestContext.ts"
export { EngineStage, PipelineError, Stage } from "./pipeline/PipelineError.ts"
export { contextMessages, count, directoryChanges, inboxEvents, outboxEvents, pipelineSeconds, recordedMessages, stageSeconds } from "./pipeline/PipelineMetrics.ts"

// Intake: the durable inbox and the workers that drain it, one message per user at a time.
export { type AcceptResult, type Claim, type Completed, type CompleteOptions, type DeadEntry, defaultRetryPolicy, Inbox, type InboxEntry, LeaseLost, type RetryPolicy } from "./intake/Inbox.ts"
export { acceptInbound } from "./intake/acceptInbound.ts"
export { commitTurn, defaultWorkerOptions, handleClaim, type Handled, type Process, runWorkers, type WorkerOptions, WorkersLayer } from "./intake/Workers.ts"
export { defaultLeases, type Leases, leasesConfig } from "./intake/LeaseConfig.ts"
export { makeWakeSignal, type WakeSignal } from "./intake/WakeSignal.ts"

// Delivery: the outbox and its sender.
export { type DeadReply, type FailedOutcome, Outbox, type MarkedSent, type OutboxEntry, type SentOutcome } from "./delivery/Outbox.ts"
export { ReplyHandoff } from "./delivery/ReplyHandoff.ts"

// Retention: what is kept, for how long.
export { defaultPrunerOptions, longestRedeliveryWindow, pruneOnce, type PrunerOptions, PrunerLayer, Retention, retentionConfig, runPruner } from "./retention/Retention.ts"
export { checkSenderOptions, defaultSenderOptions, deliver, type Delivered, makeOutboxSender, OutboxSenderLayer, runOutboxSender, type SenderOptions } from "./delivery/OutboxSender.ts"

// Escalation: a human takes over.
export { Handoff, type HandoffRequest, logHandoff } from "./escalation/Handoff.ts"

export { isTransientOutage, StoreUnavailable } from "./StoreUnavailable.ts"
