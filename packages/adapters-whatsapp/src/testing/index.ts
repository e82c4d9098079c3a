export * from "./FakeGraphApi.ts"
export * from "./FakeProviderServer.ts"
export * from "./FakeTwilioApi.ts"
export * from "./metaWebhookPayload.ts"
