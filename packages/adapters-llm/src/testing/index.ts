export * from "./FakeChatCompletions.ts"
export * from "./scriptedModel.ts"
