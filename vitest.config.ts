import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    // One Postgres for the run: DATABASE_URL, or an embedded server started here.
    globalSetup: ["packages/adapters-pg/src/testing/globalSetup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
