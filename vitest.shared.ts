import { defaultServerConditions } from "vite"
import { defineConfig, type ViteUserConfig } from "vitest/config"

// In the repository the packages run from their TypeScript sources: the `@parley/source` export condition
// points at `src/*.ts` (published consumers get `dist/*.js`). Child processes the tests spawn (the CLI, the
// servers, the multi-process hammer) resolve the same way through NODE_OPTIONS.
const conditions = ["@parley/source", ...defaultServerConditions]
process.env["NODE_OPTIONS"] = [process.env["NODE_OPTIONS"], "--conditions=@parley/source"].filter(Boolean).join(" ")

/** One Postgres for the run: DATABASE_URL, or an embedded server started here (see globalSetup.ts). */
export const oneDatabase = ["packages/adapters-pg/src/testing/globalSetup.ts"]

/** A vitest config of this repository: the packages' sources, and `test` as given. */
export const repositoryConfig = (test: NonNullable<ViteUserConfig["test"]>) =>
  defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test
  })
