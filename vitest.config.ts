import { oneDatabase, repositoryConfig } from "./vitest.shared.ts"

export default repositoryConfig({
  include: ["packages/*/test/**/*.test.ts"],
  globalSetup: oneDatabase,
  testTimeout: 120_000,
  hookTimeout: 120_000
})
