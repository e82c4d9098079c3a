import { Context, Effect, Layer } from "effect"
import { resolveFollowUp } from "./directAction.ts"
import { foldText } from "./foldText.ts"
import type { Intent } from "./Intent.ts"
import type { StoredMessage } from "./StoredMessage.ts"
import type { ProjectId, Subcontractor, TaskId } from "./Worksite.ts"

/**
 * What a classifier picked out of the sentence besides the intent, already
 * checked against the user's own data: a slot it cannot vouch for is not set.
 */
export interface Slots {
  /** One of the user's sites, named or numbered in the message. */
  readonly projectId?: ProjectId | undefined
  /** One of the user's tasks, named in the message. */
  readonly taskId?: TaskId | undefined
  /** The problem the message describes, in the user's own words (never a model's rewording). */
  readonly problem?: string | undefined
}

export interface Classification {
  readonly intent: Intent
  /** How many history messages the classifier had; 0 after a list is the seed's failure, and is alerted on. */
  readonly contextSize: number
  readonly slots?: Slots | undefined
}

/**
 * Turns free text into an intent (and slots), given the session's recent
 * messages (newest first) and the user (locale, and what must not leave the
 * process). The rule classifier is the embedded default; an LLM one can
 * replace it and must never fail: it falls back to the rules.
 */
export class IntentClassifier extends Context.Service<IntentClassifier, {
  classify(text: string, history: ReadonlyArray<StoredMessage>, user: Subcontractor): Effect.Effect<Classification>
}>()("@parley/core/IntentClassifier") {}

const rules: ReadonlyArray<readonly [Intent, ReadonlyArray<string>]> = [
  ["talk_to_someone", ["parler", "quelqu un", "humain", "conseiller", "talk", "someone", "human", "agent", "operator"]],
  ["report_problem", ["probleme", "signaler", "incident", "panne", "souci", "problem", "report", "issue"]],
  ["view_sites", ["chantier", "chantiers", "site", "sites", "projet", "projets", "project", "projects", "view sites"]],
  ["greeting", ["bonjour", "salut", "bonsoir", "coucou", "hello", "hi", "hey", "menu", "start", "aide", "help"]]
]

/**
 * Words that continue the list last shown. Only the whole message counts:
 * "plus" inside a sentence ("je ne peux plus") is not a request for page 2.
 */
const followUps: ReadonlyArray<readonly ["more" | "back", ReadonlyArray<string>]> = [
  ["more", ["plus", "voir plus", "suivant", "suivante", "page suivante", "suite", "la suite", "more", "show more", "next", "next page"]],
  ["back", ["retour", "revenir", "precedent", "precedente", "page precedente", "back", "go back", "previous", "previous page"]]
]

const matches = (folded: string, keyword: string): boolean =>
  folded === keyword || folded.startsWith(`${keyword} `) || folded.endsWith(` ${keyword}`) || folded.includes(` ${keyword} `)

/**
 * Deterministic keyword rules over folded text (case and accents ignored),
 * French and English: both are accepted whatever the user's locale, since
 * crews mix languages. The history makes follow-ups: "plus" / "suivant" /
 * "next" is `more` when the last message is a list with a next page, and
 * "retour" / "back" is `back` when it has somewhere to go back to; otherwise
 * those words mean nothing on their own. Choices typed after a list ("2",
 * "Champigny") and answers to a question are resolved before classification,
 * against the same history.
 */
export const classifyByRules = (text: string, history: ReadonlyArray<StoredMessage> = []): Intent => {
  const folded = foldText(text)
  if (folded === "") return "unknown"
  for (const [intent, words] of followUps) {
    if (words.includes(folded) && resolveFollowUp(history, intent) !== undefined) return intent
  }
  for (const [intent, keywords] of rules) {
    if (keywords.some((k) => matches(folded, k))) return intent
  }
  return "unknown"
}

export const RuleIntentClassifier: Layer.Layer<IntentClassifier> = Layer.succeed(
  IntentClassifier,
  IntentClassifier.of({
    classify: (text, history) => Effect.succeed({ intent: classifyByRules(text, history), contextSize: history.length })
  })
)
