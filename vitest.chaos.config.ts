import { repositoryConfig } from "./vitest.shared.ts"

/**
 * The chaos suite (`npm run test:chaos`): kept out of `npm test`, it runs for
 * minutes. No globalSetup: the suite starts its own embedded Postgres, which it
 * stops and starts under the servers.
 */
export default repositoryConfig({
  include: ["packages/server/chaos/**/*.chaos.ts"],
  fileParallelism: false,
  testTimeout: 300_000,
  hookTimeout: 180_000
})
