/**
 * @parley/core/testing: what an adapter or an assistant needs to prove itself
 * against the engine's guarantees. Contract suites (`suite(name, options)`
 * shape) for every store port, the conversation property (random
 * conversations with kills, redeliveries and idle timeouts, generic over the
 * assistant), test doubles (a recording messenger, a log recorder, a tiny echo
 * assistant) and drivers that run messages through inbox, workers and outbox.
 * Needs the optional peers `@effect/vitest` and `fast-check`.
 */

// Contract suites, one per port.
export { type CheckOptions, checkSessionStore, randomUser, sessionStoreContract, type SessionStoreContractOptions } from "./contracts/SessionStoreContract.ts"
export { inboxContract, type InboxContractOptions } from "./contracts/InboxContract.ts"
export {
  outboxContract,
  type OutboxContractOptions,
  type OutboxSchedule,
  outboxScheduleArbitrary,
  type OutboxStep,
  runOutboxSchedule
} from "./contracts/OutboxContract.ts"
export { handoffContract, type HandoffContractOptions, type HandoffSchedule, handoffScheduleArbitrary, runHandoffSchedule } from "./contracts/HandoffContract.ts"
export { assistantContract, type AssistantContractOptions } from "./contracts/AssistantContract.ts"
export { directoryContract, type DirectoryContractOptions } from "./contracts/DirectoryContract.ts"

// Properties.
export { checkProperty, failureReport, type PropertyRuns, resolveRuns } from "./properties/PropertyRuns.ts"
export { type InboxSchedule, inboxScheduleArbitrary, type InboxStep, runInboxSchedule } from "./properties/InboxSchedule.ts"
export {
  AssistantStall,
  checkConversations,
  conversationArbitrary,
  type ConversationCheckOptions,
  type ConversationRunOptions,
  type ConversationScript,
  runConversation,
  type Said,
  type Step,
  type Utterance
} from "./properties/ConversationProperty.ts"
export { defaultBounds, policy, runSchedule, scheduleArbitrary, type RequestPlan, type RequestRecord, type RunOptions, type Schedule, type ScheduleBounds } from "./properties/SessionSchedule.ts"

// Doubles.
export { RecordingMessenger, RecordingMessengerLayer, sendFailure, type SentReply } from "./doubles/RecordingMessenger.ts"
export { type LogRecord, type LogRecorder, makeLogRecorder } from "./doubles/LogRecorder.ts"
export {
  echoAgainId,
  EchoAssistantLayer,
  echoMissBody,
  echoScript,
  EchoState,
  echoUnknownBody,
  makeEchoAssistantLayer,
  SlowEchoAssistantLayer
} from "./doubles/EchoAssistant.ts"

// Drivers.
export { drainInbox, drainOutbox } from "./drivers/drain.ts"
export { buttonsOf, chatAs, deliverThrough, inboundOf, rowsOf, tapContent } from "./drivers/chat.ts"
export { killedAfterThePipeline } from "./drivers/killedAfterThePipeline.ts"
export { resolvingTwice } from "./drivers/resolvingTwice.ts"
