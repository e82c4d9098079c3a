import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), "utf8")

describe("the embedding guide", () => {
  it("shows, in the root README, exactly the program npm run test:pack runs against the packed tarballs", () => {
    const readme = read("README.md")
    const section = readme.slice(readme.indexOf("### A complete program"))
    const block = /```js\n([\s\S]*?)```/.exec(section)?.[1]
    assert.isDefined(block, "a js block in the section")
    assert.strictEqual(block!.trim(), read("scripts/embedding/memory.js").trim())
  })
})
