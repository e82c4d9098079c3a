import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"

const packages = fileURLToPath(new URL("../../", import.meta.url))

/** Every module specifier imported by the .ts files under `dir`, with the file importing it. */
const importsOf = (dir: string) =>
  readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".ts")).flatMap((file) =>
    [...readFileSync(join(dir, file), "utf8").matchAll(/^(?:import|export)\b[^"]*?from\s+"([^"]+)"/gm)].map((m) => ({ file, specifier: m[1]! })))

describe("dependency direction, checked on the sources", () => {
  it("the worksite assistant imports only what any embedder could: the packages' public entry points", () => {
    const allowed = new Set(["effect", "fast-check", "@effect/sql-pg", "@parley/core", "@parley/core/memory", "@parley/core/testing", "@parley/adapters-pg"])
    const src = join(packages, "worksite", "src")
    const outside = importsOf(src).filter(({ specifier }) => !specifier.startsWith("./") && !specifier.startsWith("../") && !allowed.has(specifier))
    assert.deepStrictEqual(outside, [])
    // Relative imports stay inside the package: no reaching into another package's files.
    const escaping = importsOf(src).filter(({ file, specifier }) =>
      specifier.startsWith(".") && relative(src, join(src, file, "..", specifier)).startsWith(".."))
    assert.deepStrictEqual(escaping, [])
  })

  it("the engine imports no adapter, no assistant and no other package: effect only (and its test peers in testing/)", () => {
    const src = join(packages, "core", "src")
    const external = importsOf(src).filter(({ specifier }) => !specifier.startsWith("."))
    const allowed = (file: string, specifier: string) =>
      specifier === "effect" || specifier.startsWith("effect/") ||
      (file.startsWith("testing") && (specifier === "@effect/vitest" || specifier === "fast-check"))
    assert.deepStrictEqual(external.filter(({ file, specifier }) => !allowed(file, specifier)), [])
    assert.isAbove(external.length, 0, "the scan found the engine's imports")
  })
})
