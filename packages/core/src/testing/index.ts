export * from "./SessionSchedule.ts"
export * from "./SessionStoreContract.ts"
