export * from "./SessionSchedule.ts"
export * from "./SessionStoreContract.ts"
export * from "./RecordingMessenger.ts"
export * from "./drain.ts"
