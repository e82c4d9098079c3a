import { AssistantStall, type ConversationScript, type Utterance } from "@parley/core/testing"
import { Context, Duration, Effect, Layer } from "effect"
import * as fc from "fast-check"
import { copy } from "../copy/Copy.ts"
import { foldText } from "../understanding/foldText.ts"
import { classifyByRules, IntentClassifier } from "../understanding/IntentClassifier.ts"
import type { WorksiteState } from "../WorksiteState.ts"

const projectTitles = ["Champigny", "Ivry-sur-Seine", "Montreuil"]

/**
 * What a subcontractor may send: free text (some of it answers to lists),
 * taps on the menu and on list rows, a photo.
 */
const utterances: fc.Arbitrary<Utterance> = fc.oneof(
  fc.constantFrom("Bonjour", "voir mes chantiers", "menu", "1", "2", "Champigny", "blabla", "signaler un problème", "parler à quelqu'un", "retour", "Terminé")
    .map((body): Utterance => ({ _tag: "Text", body })),
  fc.nat({ max: 3 }).map((pick): Utterance => ({ _tag: "Tap", kind: "button", id: "menu_view_sites", title: "Voir mes chantiers", pick })),
  fc.record({ k: fc.integer({ min: 1, max: 3 }), pick: fc.nat({ max: 3 }) })
    .map(({ k, pick }): Utterance => ({ _tag: "Tap", kind: "row", id: `option_${k}`, title: projectTitles[k - 1]!, pick })),
  fc.boolean().map((caption): Utterance => ({ _tag: "Photo", caption }))
)

const expiredBodies: ReadonlySet<string> = new Set([copy.fr.expired, copy.en.expired])

/** The worksite's conversations for the engine's property, and its own invariant: a tap on a list shown in this very session always hits. */
export const worksiteScript: ConversationScript = {
  utterances,
  checkSession: (messages, label) =>
    messages.flatMap((m, i) => {
      const tapped = m.metadata.interactive?.id
      if (m.direction !== "inbound" || tapped === undefined || !tapped.startsWith("option_")) return []
      const shown = messages.slice(0, i).some((p) =>
        (p.metadata as Partial<WorksiteState>).toolOutputs?.some((o) => o.options[tapped] !== undefined))
      const reply = messages[i + 1]
      return shown && reply !== undefined && expiredBodies.has(reply.content)
        ? [`[direct-action] ${m.providerMessageId} of ${label} tapped ${tapped}, shown in its session, and missed`]
        : []
    })
}

/**
 * The rule classifier, taking "thinking" time proportional to the text (as a
 * model would), or as long as the property's `Stall` step says — long enough,
 * sometimes, for the session to idle out while its message is mid-pipeline.
 */
export const SlowRuleClassifier: Layer.Layer<IntentClassifier | AssistantStall> = Layer.effectContext(
  Effect.sync(() => {
    let stall: number | undefined
    return Context.make(IntentClassifier, IntentClassifier.of({
      classify: (text, history) =>
        Effect.suspend(() => {
          const millis = stall ?? foldText(text).length * 200
          stall = undefined
          return Effect.as(Effect.sleep(Duration.millis(millis)), { intent: classifyByRules(text, history), contextSize: history.length })
        })
    })).pipe(Context.add(AssistantStall, AssistantStall.of({ stallNext: (millis) => Effect.sync(() => { stall = millis }) })))
  })
)
