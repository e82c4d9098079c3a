import { defineConfig } from "vitest/config"

/** Browser end-to-end tests (`npm run test:e2e`): kept out of `npm test`, they need Chromium and take longer. */
export default defineConfig({
  test: {
    include: ["packages/server/e2e/**/*.e2e.ts"],
    globalSetup: ["packages/adapters-pg/src/testing/globalSetup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
