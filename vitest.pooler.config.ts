import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

// The packages' sources, as in vitest.config.ts (the `@parley/source` export condition; spawned servers via NODE_OPTIONS).
const conditions = ["@parley/source", ...defaultServerConditions]
process.env["NODE_OPTIONS"] = [process.env["NODE_OPTIONS"], "--conditions=@parley/source"].filter(Boolean).join(" ")

/** The server through a real PgBouncer (`npm run test:pooler`): needs Debian's `pgbouncer`, which `.ci/run` installs. */
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/server/pooler/**/*.test.ts"],
    globalSetup: ["packages/adapters-pg/src/testing/globalSetup.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000
  }
})
