import { defaultMigrationsDir, loadMigrations } from "@parley/adapters-pg"
import { assert, describe, it } from "vitest"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const packageCopy = fileURLToPath(new URL("../migrations/", import.meta.url))
const repository = fileURLToPath(new URL("../../../migrations/", import.meta.url))

describe("where the migrator finds the migrations", () => {
  it("the package's own copy when it has one (an installed package), else the repository's folder", () => {
    assert.strictEqual(defaultMigrationsDir, existsSync(packageCopy) ? packageCopy : repository)
  })

  it("a copy left by a build is the repository's folder as it is now (rebuild after changing migrations/)", () => {
    assert.deepStrictEqual(loadMigrations(defaultMigrationsDir), loadMigrations(repository))
    assert.isAbove(loadMigrations(repository).length, 0)
  })
})
