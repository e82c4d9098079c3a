import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

const conditions = ["@parley/source", ...defaultServerConditions]
process.env["NODE_OPTIONS"] = [process.env["NODE_OPTIONS"], "--conditions=@parley/source"].filter(Boolean).join(" ")

/** Browser end-to-end tests (`npm run test:e2e`): kept out of `npm test`, they need Chromium and take longer. */
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/server/e2e/**/*.e2e.ts"],
    globalSetup: ["packages/adapters-pg/src/testing/globalSetup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
