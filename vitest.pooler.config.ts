import { oneDatabase, repositoryConfig } from "./vitest.shared.ts"

/** The server through a real PgBouncer (`npm run test:pooler`): needs Debian's `pgbouncer`, which `.ci/run` installs. */
export default repositoryConfig({
  include: ["packages/server/pooler/**/*.test.ts"],
  globalSetup: oneDatabase,
  testTimeout: 180_000,
  hookTimeout: 120_000
})
