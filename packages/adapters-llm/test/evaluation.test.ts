import { scriptedModel, startFakeChatCompletions } from "@parley/adapters-llm/testing"
import { Intent } from "@parley/core"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"
import { loadUtterances } from "../eval/evaluate.ts"

const script = fileURLToPath(new URL("../eval/evalIntents.ts", import.meta.url))
const run = (env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LLM_")))
    const child = execFile(process.execPath, [script], { env: { ...clean, ...env } }, (_e, stdout) => resolve({ code: child.exitCode, stdout }))
  })

describe("the intent evaluation set and `npm run eval:intents`", () => {
  const utterances = loadUtterances()

  it("at least 150 labelled French and English utterances, covering what the issue lists", () => {
    assert.isAtLeast(utterances.length, 150)
    assert.isAtLeast(utterances.filter((u) => u.lang === "fr").length, 50)
    assert.isAtLeast(utterances.filter((u) => u.lang === "en").length, 50)
    const categories = new Set(utterances.map((u) => u.category))
    for (const c of ["greeting", "sites", "tasks", "problem", "problem_site", "caption", "human", "thanks", "off_topic"]) assert.isTrue(categories.has(c), c)
    assert.strictEqual(new Set(utterances.map((u) => u.text)).size, utterances.length, "no duplicates")
    for (const u of utterances) assert.include(Intent.literals, u.intent)
  })

  it("prints the rules' figures, and the LLM's when an endpoint is configured (here a fake that answers the labels)", async () => {
    const rulesOnly = await run({})
    assert.strictEqual(rulesOnly.code, 0)
    assert.match(rulesOnly.stdout, /^rule classifier: \d+\/\d+ correct, accuracy \d+\.\d %$/m)
    assert.match(rulesOnly.stdout, /^confusion \(rows: expected, columns: predicted\)$/m)
    assert.match(rulesOnly.stdout, /LLM classifier: not evaluated/)

    const model = await startFakeChatCompletions(scriptedModel(Object.fromEntries(utterances.map((u) => [u.text, { intent: u.intent, site: u.site ?? null }]))))
    try {
      const withLlm = await run({ LLM_BASE_URL: model.baseUrl, LLM_API_KEY: "k", LLM_MODEL: "labels" })
      assert.strictEqual(withLlm.code, 0)
      assert.match(withLlm.stdout, new RegExp(`^LLM classifier \\(labels\\): ${utterances.length}/${utterances.length} correct, accuracy 100\\.0 %`, "m"))
      const named = utterances.filter((u) => u.site !== undefined).length
      assert.include(withLlm.stdout, `site slot: ${named}/${named}`)
      assert.match(withLlm.stdout, new RegExp(`outcomes: llm ${utterances.length}, fallback_timeout 0, fallback_invalid 0, fallback_error 0`))
      assert.strictEqual(model.requests().length, utterances.length)
    } finally {
      await model.close()
    }
  })
})
