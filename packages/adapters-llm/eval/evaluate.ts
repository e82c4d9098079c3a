import { classifyByRules, foldText, Intent, type Classification, type Project, type Subcontractor } from "@parley/core"
import { Effect, Schema } from "effect"
import { readFileSync } from "node:fs"

/** One labelled utterance of `utterances.jsonl`: what a subcontractor typed, and what it means. */
export const Utterance = Schema.Struct({
  text: Schema.String,
  lang: Schema.Literals(["fr", "en"]),
  category: Schema.String,
  intent: Intent,
  /** The site the sentence names, when it names one: what the LLM's slot should pick out. */
  site: Schema.optionalKey(Schema.String)
})
export type Utterance = typeof Utterance.Type

export const loadUtterances = (path = new URL("./utterances.jsonl", import.meta.url)): ReadonlyArray<Utterance> =>
  readFileSync(path, "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => Schema.decodeUnknownSync(Schema.fromJsonString(Utterance))(line))

export interface Scored {
  readonly utterance: Utterance
  readonly predicted: Intent
  /** The site the classifier's slot picked, by name (undefined: none). */
  readonly site?: string | undefined
}

export interface Report {
  readonly total: number
  readonly correct: number
  readonly accuracy: number
  /** expected → predicted → count */
  readonly confusion: Record<string, Record<string, number>>
  readonly byCategory: Record<string, { readonly total: number; readonly correct: number }>
  /** Among utterances naming a site: how many got that site as a slot. */
  readonly sites: { readonly total: number; readonly correct: number }
}

export const score = (scored: ReadonlyArray<Scored>): Report => {
  const confusion: Record<string, Record<string, number>> = {}
  const byCategory: Record<string, { total: number; correct: number }> = {}
  let correct = 0
  let sitesTotal = 0
  let sitesCorrect = 0
  for (const { utterance, predicted, site } of scored) {
    const row = (confusion[utterance.intent] ??= {})
    row[predicted] = (row[predicted] ?? 0) + 1
    const category = (byCategory[`${utterance.category} (${utterance.lang})`] ??= { total: 0, correct: 0 })
    category.total += 1
    if (predicted === utterance.intent) {
      correct += 1
      category.correct += 1
    }
    if (utterance.site !== undefined) {
      sitesTotal += 1
      if (site !== undefined && foldText(site) === foldText(utterance.site)) sitesCorrect += 1
    }
  }
  return { total: scored.length, correct, accuracy: correct / scored.length, confusion, byCategory, sites: { total: sitesTotal, correct: sitesCorrect } }
}

/** Each utterance alone (no history), as a first message would be. */
export const runClassifier = (
  utterances: ReadonlyArray<Utterance>,
  classify: (text: string) => Effect.Effect<Classification>,
  sites: ReadonlyArray<Project>
) =>
  Effect.forEach(utterances, (utterance) =>
    Effect.map(classify(utterance.text), (c): Scored => ({
      utterance,
      predicted: c.intent,
      site: sites.find((p) => p.id === c.slots?.projectId)?.name
    })), { concurrency: 4 })

export const runRules = (utterances: ReadonlyArray<Utterance>) =>
  runClassifier(utterances, (text) => Effect.succeed({ intent: classifyByRules(text, []), contextSize: 0 }), [])

const pct = (n: number, d: number) => (d === 0 ? "n/a" : `${(100 * n / d).toFixed(1)} %`)

export const formatReport = (title: string, report: Report, user?: Subcontractor): string => {
  const intents = Intent.literals
  const width = Math.max(...intents.map((i) => i.length)) + 2
  const lines = [
    `${title}: ${report.correct}/${report.total} correct, accuracy ${pct(report.correct, report.total)}${user ? ` (as ${user.locale} user)` : ""}`,
    "",
    `confusion (rows: expected, columns: predicted)`,
    " ".repeat(width) + intents.map((i) => i.slice(0, 8).padStart(9)).join(""),
    ...intents.filter((i) => report.confusion[i] !== undefined).map((expected) =>
      expected.padEnd(width) + intents.map((p) => String(report.confusion[expected]?.[p] ?? 0).padStart(9)).join("")
    ),
    "",
    "by category",
    ...Object.entries(report.byCategory).map(([c, s]) => `  ${c.padEnd(26)} ${String(s.correct).padStart(3)}/${String(s.total).padEnd(3)} ${pct(s.correct, s.total)}`),
    "",
    `site slot: ${report.sites.correct}/${report.sites.total} utterances naming a site got it (${pct(report.sites.correct, report.sites.total)})`
  ]
  return lines.join("\n")
}
