import { defineConfig } from "vitest/config"

/** The server through a real PgBouncer (`npm run test:pooler`): needs Debian's `pgbouncer`, which `.ci/run` installs. */
export default defineConfig({
  test: {
    include: ["packages/server/pooler/**/*.test.ts"],
    globalSetup: ["packages/adapters-pg/src/testing/globalSetup.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000
  }
})
