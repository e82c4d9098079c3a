import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

// In the repository the packages run from their TypeScript sources: the `@parley/source` export condition
// points at `src/*.ts` (published consumers get `dist/*.js`). Child processes the tests spawn (the CLI, the
// multi-process hammer) resolve the same way through NODE_OPTIONS.
const conditions = ["@parley/source", ...defaultServerConditions]
process.env["NODE_OPTIONS"] = [process.env["NODE_OPTIONS"], "--conditions=@parley/source"].filter(Boolean).join(" ")

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    // One Postgres for the run: DATABASE_URL, or an embedded server started here.
    globalSetup: ["packages/adapters-pg/src/testing/globalSetup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
