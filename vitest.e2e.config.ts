import { oneDatabase, repositoryConfig } from "./vitest.shared.ts"

/** Browser end-to-end tests (`npm run test:e2e`): kept out of `npm test`, they need Chromium and take longer. */
export default repositoryConfig({
  include: ["packages/server/e2e/**/*.e2e.ts"],
  globalSetup: oneDatabase,
  testTimeout: 120_000,
  hookTimeout: 120_000
})
