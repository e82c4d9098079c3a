import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

// The packages' sources, as in vitest.config.ts (the `@parley/source` export condition; spawned servers via NODE_OPTIONS).
const conditions = ["@parley/source", ...defaultServerConditions]
process.env["NODE_OPTIONS"] = [process.env["NODE_OPTIONS"], "--conditions=@parley/source"].filter(Boolean).join(" ")

/**
 * The chaos suite (`npm run test:chaos`): kept out of `npm test`, it runs for
 * minutes. No globalSetup: the suite starts its own embedded Postgres, which it
 * stops and starts under the servers.
 */
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/server/chaos/**/*.chaos.ts"],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000
  }
})
